// `ptxgen devices`: what the runtime can run kernels on.
#include <fmt/format.h>

#include "args.hpp"
#include "commands.hpp"
#include "common.hpp"
#include "ptxgen/error.hpp"
#include "ptxsmith/runtime/device.hpp"

namespace ptxsmith::runtime {
bool cuda_device_available(std::string* why_not);
}

namespace cli {

namespace {

constexpr const char* kHelp = R"(usage: ptxgen devices

Lists the devices kernels can run on: the first CUDA GPU (when a driver and a GPU are present)
with its compute capability, SM count, L2 size, shared-memory limits and memory, and the CPU
interpreter, which is always there.

environment:
  PTXSMITH_LIBCUDA   load the CUDA driver from this path instead of libcuda.so.1
)";

void print(const ptxsmith::runtime::DeviceInfo& i) {
    fmt::print("{}: {}\n", i.kind, i.name);
    fmt::print("  compute capability   {}.{} (kernels built for sm_{}{})\n", i.cc_major, i.cc_minor, i.cc_major, i.cc_minor);
    if (i.kind == "cuda") {
        fmt::print("  SMs                  {}\n", i.sm_count);
        fmt::print("  L2 cache             {:.1f} MiB\n", static_cast<double>(i.l2_bytes) / (1 << 20));
        fmt::print("  memory               {:.1f} GiB\n", static_cast<double>(i.memory_bytes) / (1 << 30));
        fmt::print("  driver               CUDA {}.{}\n", i.driver_version / 1000, i.driver_version % 1000 / 10);
    }
    fmt::print("  shared memory        {} KiB per block ({} KiB opt-in), {} KiB per SM\n", i.shared_per_block / 1024,
               i.shared_per_block_optin / 1024, i.shared_per_sm / 1024);
    fmt::print("  threads per block    {}\n", i.max_threads_per_block);
}

}  // namespace

int cmd_devices(const Args& args) {
    if (wants_help(args)) {
        fmt::print("{}", kHelp);
        return kExitOk;
    }
    if (!args.empty()) throw ptxsmith::Error(fmt::format("devices: unexpected argument '{}'", args[0]));
    std::string why;
    if (ptxsmith::runtime::cuda_device_available(&why)) {
        print(ptxsmith::runtime::open_device(ptxsmith::runtime::DeviceKind::cuda)->info());
    } else {
        fmt::print("cuda: not available: {}\n", why);
    }
    print(ptxsmith::runtime::open_interp_device()->info());
    return kExitOk;
}

}  // namespace cli
