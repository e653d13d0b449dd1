#include "ptxsmith/runtime/errors.hpp"

#include <fmt/format.h>

#include <utility>

namespace ptxsmith {

namespace {

std::string cuda_error_message(std::string_view call, std::string_view name, std::string_view text,
                               std::string_view context, std::string_view hint) {
    std::string message = fmt::format("{} failed", call);
    if (!context.empty()) message += fmt::format(" ({})", context);
    message += fmt::format(": {}", name);
    if (!text.empty()) message += fmt::format(": {}", text);
    if (!hint.empty()) message += fmt::format(". {}", hint);
    return message;
}

}  // namespace

CudaError::CudaError(std::string call, CUresult result, std::string result_name, std::string result_string,
                     std::string_view context, std::string_view hint)
    : Error(cuda_error_message(call, result_name, result_string, context, hint)),
      call_(std::move(call)),
      result_(result),
      result_name_(std::move(result_name)),
      result_string_(std::move(result_string)) {}

}  // namespace ptxsmith
