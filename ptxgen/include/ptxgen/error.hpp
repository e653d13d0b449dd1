// The project's one error type: every failure, from a bad builder call to a bad command line,
// is an Error whose message says what was being done and with which values.
#pragma once

#include <stdexcept>
#include <string>

namespace ptxsmith {

class Error : public std::runtime_error {
public:
    explicit Error(const std::string& what) : std::runtime_error(what) {}
};

}  // namespace ptxsmith
