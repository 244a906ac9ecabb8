// Stand-alone timing of winogradConv3x3s2 (WinogradStride2.h) against
// directConv3x3s2 on the stride-2 layers of the n models, 1 image.
// Build: c++ -std=c++17 -O3 -ffp-contract=fast -march=native -fopenmp
//   -Icodegen/cpu/kernels -I. bench/prototypes/winograd-s2-vs-direct.cpp
// Run: OMP_NUM_THREADS=1 ./a.out 15
#include "codegen/cpu/kernels/Kernels.h"
#include <chrono>
#include <cstdio>
#include <random>
#include <algorithm>
#include <omp.h>
using namespace irmb::kernels;
template <int64_t CI, int64_t H, int64_t W, int64_t CO> void run(int runs) {
  constexpr int64_t HO = stride2Extent(H), WO = stride2Extent(W);
  std::mt19937 g(1); std::normal_distribution<float> n;
  std::vector<float> x(CI*H*W), w(CO*CI*9), b(CO), y1(CO*HO*WO), y2(CO*HO*WO);
  for (auto &v : x) v = n(g); for (auto &v : w) v = n(g)*0.1f; for (auto &v : b) v = n(g);
  std::vector<float> lanes(directConvWeightFloats(CI, CO));
  packCoLanes(w.data(), CO, CI*9, kTileCols, lanes.data());
  std::vector<float> u = winogradS2Weights(w.data(), CO, CI), packed(u.size());
  for (int64_t k = 0; k < 36; ++k) packWeights(u.data()+k*CO*CI, CO, CI, kTileRows, packed.data()+k*CO*CI);
  std::vector<float> scratch(winogradS2ScratchFloats(CI,H,W,CO,kVectorFloats));
  std::vector<double> td, tw;
  for (int r = 0; r < runs; ++r) {
    auto t0 = std::chrono::steady_clock::now();
    directConv3x3s2<CI,H,W,CO,Act::Silu>(x.data(), lanes.data(), b.data(), nullptr, y1.data());
    auto t1 = std::chrono::steady_clock::now();
    winogradConv3x3s2<CI,H,W,CO,Act::Silu>(x.data(), packed.data(), b.data(), nullptr, y2.data(), scratch.data());
    auto t2 = std::chrono::steady_clock::now();
    td.push_back(std::chrono::duration<double,std::milli>(t1-t0).count());
    tw.push_back(std::chrono::duration<double,std::milli>(t2-t1).count());
  }
  std::sort(td.begin(), td.end()); std::sort(tw.begin(), tw.end());
  double md = 0, mx = 0; for (size_t i = 0; i < y1.size(); ++i) { md = std::max(md, (double)std::fabs(y1[i]-y2[i])); mx = std::max(mx, (double)std::fabs(y1[i])); }
  double gf = 2.0*CI*CO*9*HO*WO/1e9;
  printf("%4ld->%4ld at %4ldx%-4ld direct %7.3f ms (%5.1f GF/s)  wino-s2 %7.3f ms (%5.1f eff)  ratio %.3f  maxdiff/max %.2e\n",
    (long)CI,(long)CO,(long)H,(long)W, td[runs/2], gf/td[runs/2]*1e3, tw[runs/2], gf/tw[runs/2]*1e3, td[runs/2]/tw[runs/2], md/mx);
}
int main(int argc, char **argv) {
  int runs = argc > 1 ? atoi(argv[1]) : 15;
  run<16,320,320,32>(runs);
  run<32,160,160,64>(runs);   // yolov10n-ish
  run<64,160,160,64>(runs);
  run<64,80,80,128>(runs);
  run<128,80,80,128>(runs);
  run<64,80,80,64>(runs);
  run<128,40,40,256>(runs);
  run<128,40,40,128>(runs);
}
