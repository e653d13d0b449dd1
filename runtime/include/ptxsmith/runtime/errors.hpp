// The runtime's errors are the project's one Error type; a failed driver call is a CudaError,
// which also keeps the call and its result apart, so that a caller can react to one result
// (CUDA_ERROR_OUT_OF_MEMORY, CUDA_ERROR_NOT_READY) without parsing the message.
#pragma once

#include <string>
#include <string_view>

#include "ptxgen/error.hpp"
#include "ptxsmith/runtime/cuda_types.hpp"

namespace ptxsmith {

class CudaError : public Error {
public:
    // The message reads "<call> failed (<context>): <result_name>: <result_string>. <hint>",
    // leaving out the parts that are empty.
    CudaError(std::string call, CUresult result, std::string result_name, std::string result_string,
              std::string_view context = {}, std::string_view hint = {});

    const std::string& call() const noexcept { return call_; }
    CUresult result() const noexcept { return result_; }
    const std::string& result_name() const noexcept { return result_name_; }
    const std::string& result_string() const noexcept { return result_string_; }

private:
    std::string call_;
    CUresult result_;
    std::string result_name_;
    std::string result_string_;
};

}  // namespace ptxsmith
