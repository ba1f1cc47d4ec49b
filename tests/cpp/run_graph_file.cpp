// Loads a graph file that Python saved (ts.save_graph), feeds it float32
// inputs read from raw files, runs its targets without Python and compares
// target 0 with the expected values; then checks that a truncated copy of the
// file raises GraphError. Usage:
//   run_graph_file GRAPH EXPECTED TOLERANCE INPUT:d0xd1x... [INPUT:...]
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include <tensorstitch/tensorstitch.h>

static std::string read(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::ostringstream s;
  s << f.rdbuf();
  return s.str();
}

static ts::NDArray load_raw(const std::string& spec) {
  const size_t colon = spec.rfind(':');
  ts::Dims dims;
  std::stringstream shape(spec.substr(colon + 1));
  for (std::string d; std::getline(shape, d, 'x');)
    if (!d.empty()) dims.push_back(std::stoll(d));
  ts::NDArray a(dims, ts::DType::Float32);
  const std::string bytes = read(spec.substr(0, colon));
  if (bytes.size() != a.nbytes()) throw std::runtime_error("input " + spec + ": wrong size");
  std::copy(bytes.begin(), bytes.end(), static_cast<char*>(a.data()));
  return a;
}

int main(int argc, char** argv) {
  if (argc < 5) {
    std::printf("usage: run_graph_file GRAPH EXPECTED TOLERANCE INPUT:shape...\n");
    return 2;
  }
  ts::GraphFile file = ts::load_graph(argv[1]);
  if (file.feeds.size() != size_t(argc - 4)) {
    std::printf("the file has %zu feeds; %d inputs given\n", file.feeds.size(), argc - 4);
    return 1;
  }
  std::vector<std::pair<ts::Tensor, ts::NDArray>> feeds;
  for (int i = 4; i < argc; ++i) feeds.emplace_back(file.feeds[size_t(i - 4)], load_raw(argv[i]));
  std::vector<ts::NDArray> out = file.graph.run(feeds, file.targets, {}, ts::Device{});
  const std::string expected = read(argv[2]);
  const ts::NDArray got = out[0].dtype() == ts::DType::Float32 ? out[0] : out[0].astype(ts::DType::Float32);
  if (expected.size() != got.nbytes()) {
    std::printf("target 0 has %zu bytes; expected %zu\n", got.nbytes(), expected.size());
    return 1;
  }
  const float* want = reinterpret_cast<const float*>(expected.data());
  double worst = 0;
  for (int64_t i = 0; i < got.size(); ++i) worst = std::fmax(worst, std::fabs(got.data_as<float>()[i] - want[i]));
  std::printf("%zu ops loaded, %zu targets, max difference %.3g\n", file.graph.operations().size(), out.size(), worst);
  if (!(worst <= std::atof(argv[3]))) return 1;
  const std::string whole = read(argv[1]);
  try {
    ts::graph_from_bytes(whole.substr(0, whole.size() / 2), "half a file");
    std::printf("a truncated file loaded\n");
    return 1;
  } catch (const ts::GraphError& e) {
    std::printf("GraphError as expected: %s\n", e.what());
  }
  return 0;
}
