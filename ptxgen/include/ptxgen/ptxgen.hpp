// The ptxgen builder in one include: handles, the builder, the verifier and the printer.
#pragma once

#include "ptxgen/builder.hpp"
#include "ptxgen/error.hpp"
#include "ptxgen/printer.hpp"
#include "ptxgen/verifier.hpp"
