// PTX spellings of the IR's enumerations, shared by the printer and the PTX reader.
#pragma once

#include <string_view>

#include "ptxgen/ir.hpp"

namespace ptxgen {

std::string_view spelling(Op op);         // the base mnemonic: "add", "cp.async", "bar.warp.sync"
std::string_view spelling(Round r);       // "rn", "rzi"; "" for none
std::string_view spelling(Cmp c);         // "lt", "geu"
std::string_view spelling(BoolOp b);      // "and"; "" for none
std::string_view spelling(Space s);       // "global", "shared"; "" for generic
std::string_view spelling(CacheOp c);     // "ca"; "" for none
std::string_view spelling(Evict e);       // "L1::evict_last"; "" for none
std::string_view spelling(ShflMode m);    // "bfly"
std::string_view spelling(VoteMode m);    // "ballot"
std::string_view spelling(AtomOp a);      // "add", "cas"
std::string_view spelling(Scope s);       // "cta", "gpu", "sys"
std::string_view spelling(FenceSem f);    // "sc", "acq_rel"
std::string_view spelling(SReg s);        // "%tid.x"
std::string_view spelling(MmaShape s);    // "m16n8k16"

}  // namespace ptxgen
