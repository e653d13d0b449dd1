// `ptxgen bench` end to end on the interpreter: the table's rows, the JSON's figures (bytes
// counted, GB/s consistent with the times, median between min and max), the exit codes for bad
// input, and Device::copy, which the benchmark uses for its copies and its ceiling.
#include <doctest/doctest.h>

#include "run_command.hpp"

#include <cmath>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "ptxgen/error.hpp"
#include "ptxsmith/runtime/device.hpp"

namespace {

const std::string kCli = PTXGEN_CLI;

CommandOutput run(const std::string& command) { return run_command(command); }

// The number after "key": in a flat search of `json`, from `from` on; NaN when absent.
double json_number(const std::string& json, const std::string& key, size_t from = 0) {
    const std::string quoted = "\"" + key + "\": ";
    const size_t at = json.find(quoted, from);
    if (at == std::string::npos) return std::nan("");
    return std::strtod(json.c_str() + at + quoted.size(), nullptr);
}

size_t count(const std::string& text, const std::string& what) {
    size_t n = 0;
    for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
    return n;
}

}  // namespace

TEST_CASE("ptxgen bench saxpy on the interpreter prints the table and warns about CPU times") {
    // Default shapes take seconds on the interpreter; 64 Ki elements show the same table.
    const CommandOutput o = run(kCli + " bench saxpy --n 65536 --device interp --iters 3");
    INFO(o.text);
    REQUIRE(o.status == 0);
    CHECK(o.text.find("kernel      saxpy_n65536_b256\n") != std::string::npos);
    CHECK(o.text.find("device      CPU interpreter\n") != std::string::npos);
    CHECK(o.text.find("command     ptxgen bench saxpy --n 65536 --device interp --iters 3\n") != std::string::npos);
    // x read (256 KiB) and y read and written (2 x 256 KiB): no weights, so every buffer counts;
    // the rotated buffers are x and y, one copy of each on the interpreter.
    CHECK(o.text.find("counted     786432 bytes per launch") != std::string::npos);
    CHECK(o.text.find("\nrotated (1 copy, 524.3 kB)") != std::string::npos);
    CHECK(o.text.find("\nL2-resident ") != std::string::npos);
    CHECK(o.text.find("\ncopy        ") != std::string::npos);
    CHECK(count(o.text, "not GPU performance") == 2);  // at the top and again under the figures
}

TEST_CASE("ptxgen bench --json: figures agree with each other") {
    const CommandOutput o = run(kCli + " bench saxpy --n 4096 --device interp --iters 4 --repeats 3 --rotate 3 --json 2>/dev/null");
    INFO(o.text);
    REQUIRE(o.status == 0);
    REQUIRE(o.text.size() > 2);
    CHECK(o.text.front() == '{');
    CHECK(o.text.substr(o.text.size() - 2) == "}\n");
    CHECK(count(o.text, "{") == count(o.text, "}"));
    CHECK(o.text.find("\"kernel\": \"saxpy_n4096_b256\"") != std::string::npos);
    CHECK(o.text.find("\"counted\": \"all buffers\"") != std::string::npos);
    CHECK(json_number(o.text, "counted_bytes") == 3 * 4096 * 4);
    CHECK(json_number(o.text, "copies") == 3);
    CHECK(json_number(o.text, "bytes") == 3 * 2 * 4096 * 4);  // the copies of x and y
    CHECK(json_number(o.text, "repeats") == 3);

    for (const char* key : {"\"rotated\"", "\"l2_resident\""}) {
        const size_t at = o.text.find(key);
        REQUIRE(at != std::string::npos);
        const double median = json_number(o.text, "median_us", at);
        CHECK(json_number(o.text, "iters", at) >= 4);  // whole replays of a graph of 3 copies
        CHECK(json_number(o.text, "min_us", at) <= median);
        CHECK(median <= json_number(o.text, "max_us", at));
        CHECK(median > 0);
        const double gbs = json_number(o.text, "gb_per_s", at);
        CHECK(gbs == doctest::Approx(3 * 4096 * 4 / (median * 1e3)).epsilon(1e-9));
        const double copy_gbs = json_number(o.text, "gb_per_s", o.text.find("\"copy\""));
        CHECK(json_number(o.text, "fraction_of_copy", at) == doctest::Approx(gbs / copy_gbs).epsilon(1e-9));
    }
    const size_t copy = o.text.find("\"copy\"");
    CHECK(json_number(o.text, "bytes", copy) == 16 << 20);
    CHECK(json_number(o.text, "gb_per_s", copy) ==
          doctest::Approx(2.0 * (16 << 20) / (json_number(o.text, "median_us", copy) * 1e3)).epsilon(1e-9));
    CHECK(o.text.find("\"warning\": \"the CPU interpreter") != std::string::npos);
}

TEST_CASE("ptxgen bench --launch stream times the same launches without a graph") {
    const CommandOutput o = run(kCli + " bench vector_add --n 1000 --device interp --launch stream --iters 2 --repeats 1 --json");
    INFO(o.text);
    REQUIRE(o.status == 0);
    CHECK(o.text.find("\"launch\": \"stream\"") != std::string::npos);
    CHECK(json_number(o.text, "iters", o.text.find("\"rotated\"")) == 2);
    // vector_add reads a and b and writes c: all three count once.
    CHECK(json_number(o.text, "counted_bytes") == 3 * 1000 * 4);
}

TEST_CASE("ptxgen bench reports bad input with the CLI's exit codes") {
    CHECK(run(kCli + " bench --help").status == 0);
    CHECK(run(kCli + " bench").status == 2);
    CHECK(run(kCli + " bench nosuch --device interp").status == 2);
    CHECK(run(kCli + " bench saxpy --nosuch 3 --device interp").status == 2);
    CHECK(run(kCli + " bench saxpy --device bogus").status == 2);
    CHECK(run(kCli + " bench saxpy --device interp --iters 0").status == 2);
    CHECK(run(kCli + " bench saxpy --device interp --iters x").status == 2);
    CHECK(run(kCli + " bench saxpy --device interp --repeats -1").status == 2);
    CHECK(run(kCli + " bench saxpy --device interp --rotate 0").status == 2);
    CHECK(run(kCli + " bench saxpy --device interp --rotate 5000").status == 2);
    CHECK(run(kCli + " bench saxpy --device interp --launch sometimes").status == 2);
    CHECK(run(kCli + " bench saxpy extra --device interp").status == 2);
    // No driver at all: --device cuda cannot be honoured, which is a failed run (1), said clearly.
    const CommandOutput o = run("PTXSMITH_LIBCUDA=/no/such/dir/libcuda.so.1 " + kCli + " bench saxpy --device cuda");
    INFO(o.text);
    CHECK(o.status == 1);
    CHECK(o.text.find("cannot open the CUDA device") != std::string::npos);
}

TEST_CASE("Device::copy on the interpreter: ordered device-to-device bytes, checked ranges") {
    auto dev = ptxsmith::runtime::open_interp_device();
    std::mt19937 rng(std::random_device{}());
    std::vector<uint8_t> bytes(1000);
    for (uint8_t& b : bytes) b = static_cast<uint8_t>(rng());
    ptxsmith::runtime::DeviceBuffer a(*dev, bytes.size(), "a"), b(*dev, 2 * bytes.size(), "b");
    a.upload(bytes.data());
    dev->memset(b.address(), 0x5a, b.bytes());
    dev->copy(b.address() + 1000, a.address(), 1000);
    dev->copy(b.address(), a.address() + 10, 990);
    std::vector<uint8_t> got(b.bytes());
    b.download(got.data());
    for (size_t i = 0; i < 990; ++i) CHECK(got[i] == bytes[i + 10]);
    for (size_t i = 990; i < 1000; ++i) CHECK(got[i] == 0x5a);
    for (size_t i = 0; i < 1000; ++i) CHECK(got[1000 + i] == bytes[i]);

    CHECK_THROWS_WITH_AS(dev->copy(b.address(), a.address(), 1001), doctest::Contains("source is outside every buffer"),
                         ptxsmith::Error);
    CHECK_THROWS_WITH_AS(dev->copy(a.address() + 1, b.address(), 1000), doctest::Contains("destination is outside every buffer"),
                         ptxsmith::Error);
    dev->begin_capture();
    CHECK_THROWS_WITH_AS(dev->copy(b.address(), a.address(), 10), doctest::Contains("during a graph capture"), ptxsmith::Error);
    dev->end_capture();
}

TEST_CASE("ptxgen bench counts what a family's bench_work() says a launch moves") {
    // decode_attention reads K and V rows [0, len) only, not the max-seq rows of the cache.
    const CommandOutput d = run(kCli + " bench decode_attention --head-dim 64 --q-heads 4 --kv-heads 2 --max-seq 256 --len 40 "
                                       "--chunk 32 --device interp --iters 1 --repeats 1 --json");
    INFO(d.text);
    REQUIRE(d.status == 0);
    CHECK(d.text.find("\"counted\": \"family\"") != std::string::npos);
    CHECK(json_number(d.text, "counted_bytes") == 2 * 2 * 40 * 64 * 2 + 2 * 4 * 64 * 4 + 4);
    CHECK(json_number(d.text, "flops") == 0);
    CHECK(d.text.find("tflop_per_s") == std::string::npos);

    // embed_rows reads `tokens` rows of the table: q8_0 rows of 64 values are 68 bytes.
    const CommandOutput e = run(kCli + " bench embed_rows --type q8_0 --k 64 --vocab 1000 --tokens 3 --device interp --iters 1 "
                                       "--repeats 1 --json");
    INFO(e.text);
    REQUIRE(e.status == 0);
    CHECK(json_number(e.text, "counted_bytes") == 3 * (68 + 4 + 64 * 4));

    // flash_attention also counts its causal flops, and the table gets a TFLOP/s column.
    const std::string flash = " bench flash_attention --head-dim 64 --q-heads 2 --kv-heads 1 --len 16 --pos 4 --max-seq 32 "
                              "--warps 1 --device interp --iters 1 --repeats 1";
    const CommandOutput f = run(kCli + flash + " --json");
    INFO(f.text);
    REQUIRE(f.status == 0);
    const double pairs = 16 * 4 + 16 * 17 / 2;
    CHECK(json_number(f.text, "flops") == 4 * pairs * 64 * 2);
    CHECK(json_number(f.text, "counted_bytes") == 16 * 2 * 64 * 2 + 2 * 1 * 20 * 64 * 2 + 16 * 2 * 64 * 4 + 4);
    const size_t at = f.text.find("\"l2_resident\"");
    REQUIRE(at != std::string::npos);
    CHECK(json_number(f.text, "tflop_per_s", at) ==
          doctest::Approx(4 * pairs * 64 * 2 / (json_number(f.text, "median_us", at) * 1e6)).epsilon(1e-9));
    const CommandOutput table = run(kCli + flash);
    INFO(table.text);
    REQUIRE(table.status == 0);
    CHECK(table.text.find("counted     ") != std::string::npos);
    CHECK(table.text.find("the family's count: causal") != std::string::npos);
    CHECK(table.text.find("TFLOP/s") != std::string::npos);
}

TEST_CASE("ptxgen bench times an empty kernel launched the same way for small kernels or --vs-empty") {
    // 12 kB moved: under 1 MB, so the empty kernel is measured without asking.
    const CommandOutput small = run(kCli + " bench vector_add --n 1000 --device interp --iters 2 --repeats 1");
    INFO(small.text);
    REQUIRE(small.status == 0);
    CHECK(small.text.find("x empty") != std::string::npos);
    CHECK(small.text.find("\nempty kernel, same launch ") != std::string::npos);
    CHECK(small.text.find("\nempty       vector_add_n1000_b256_empty: ") != std::string::npos);

    // 1.2 MB: not without --vs-empty.
    const std::string big = " bench vector_add --n 100000 --device interp --iters 1 --repeats 1 --json";
    const CommandOutput plain = run(kCli + big);
    INFO(plain.text);
    REQUIRE(plain.status == 0);
    CHECK(plain.text.find("\"empty\": null") != std::string::npos);
    CHECK(plain.text.find("x_empty") == std::string::npos);
    const CommandOutput forced = run(kCli + big + " --vs-empty");
    INFO(forced.text);
    REQUIRE(forced.status == 0);
    const size_t empty = forced.text.find("\"empty\": {\"kernel\": \"vector_add_n100000_b256_empty\"");
    REQUIRE(empty != std::string::npos);
    const double empty_us = json_number(forced.text, "median_us", empty);
    CHECK(empty_us > 0);
    const size_t resident = forced.text.find("\"l2_resident\"");
    CHECK(json_number(forced.text, "x_empty", resident) ==
          doctest::Approx(json_number(forced.text, "median_us", resident) / empty_us).epsilon(1e-9));
}
