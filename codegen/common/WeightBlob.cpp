//===- WeightBlob.cpp - the weights blob of a model -----------------------===//
//
// Checkpoint tensors, folded BatchNorms and convolutions, packed CPU
// operands (WeightBlob.h).
//
//===----------------------------------------------------------------------===//
#include "codegen/common/WeightBlob.h"

#include "codegen/common/ModelQueries.h"
#include "codegen/cpu/kernels/Packing.h"
#include "codegen/cpu/kernels/WinogradTransforms.h"

#include <cmath>

using namespace mlir;
using namespace irmb;

namespace irmb::codegen {

using ::irmb::weights::kBatchNormEps;

FailureOr<int64_t> WeightBlob::tensor(StringRef key, Operation *op) {
  auto cached = offsets.find(key.str());
  if (cached != offsets.end())
    return cached->second;
  auto it = weights.find(key.str());
  if (it == weights.end()) {
    op->emitError() << "no weight '" << key << "'";
    return failure();
  }
  int64_t at = append(it->second.values);
  offsets[key.str()] = at;
  return at;
}

const std::vector<float> *WeightBlob::values(StringRef key) const {
  auto it = weights.find(key.str());
  return it == weights.end() ? nullptr : &it->second.values;
}

int64_t WeightBlob::append(const std::vector<float> &values) {
  while (blob.size() % 64)
    blob.push_back(0);
  int64_t at = static_cast<int64_t>(blob.size());
  const char *bytes = reinterpret_cast<const char *>(values.data());
  blob.insert(blob.end(), bytes, bytes + values.size() * sizeof(float));
  return at;
}

FailureOr<SmallVector<int64_t>>
WeightBlob::tensors(const std::string &prefix, ArrayRef<const char *> suffixes,
                    Operation *op) {
  SmallVector<int64_t> at;
  for (const char *suffix : suffixes) {
    FailureOr<int64_t> o = tensor(prefix + suffix, op);
    if (failed(o))
      return failure();
    at.push_back(*o);
  }
  return at;
}

FailureOr<WeightBlob::FoldedNorm> WeightBlob::foldNorm(const std::string &norm,
                                                       Operation *op) {
  const std::vector<float> *g = values(norm + ".weight"),
                           *beta = values(norm + ".bias"),
                           *mean = values(norm + ".running_mean"),
                           *var = values(norm + ".running_var");
  if (!g || !beta || !mean || !var)
    return op->emitError() << "incomplete BatchNorm '" << norm << "'";
  FoldedNorm f;
  for (size_t c = 0; c < g->size(); ++c) {
    double scale = (*g)[c] / std::sqrt((*var)[c] + kBatchNormEps);
    f.scale.push_back(scale);
    f.shift.push_back((*beta)[c] - (*mean)[c] * scale);
  }
  return f;
}

FailureOr<std::pair<int64_t, int64_t>>
WeightBlob::appendNorm(const std::string &norm, Operation *op) {
  FailureOr<FoldedNorm> n = foldNorm(norm, op);
  if (failed(n))
    return failure();
  std::vector<float> scale(n->scale.begin(), n->scale.end()),
      shift(n->shift.begin(), n->shift.end());
  int64_t s = append(scale);
  return std::make_pair(s, append(shift));
}

FailureOr<WeightBlob::FoldedConv>
WeightBlob::foldConv(StringRef wKey, std::optional<StringRef> bKey,
                     std::optional<StringRef> inNorm,
                     std::optional<StringRef> outNorm, int64_t cout,
                     Operation *op) {
  const std::vector<float> *wv = values(wKey);
  if (!wv)
    return op->emitError() << "no weight '" << wKey << "'";
  FoldedConv f;
  f.weight = *wv;
  f.bias.assign(cout, 0.0f);
  if (bKey && !bKey->empty()) {
    const std::vector<float> *bv = values(*bKey);
    if (!bv)
      return op->emitError() << "no weight '" << *bKey << "'";
    f.bias = *bv;
    f.hasBias = true;
  }
  int64_t per = static_cast<int64_t>(wv->size()) / cout;
  if (inNorm) {
    FailureOr<FoldedNorm> norm = foldNorm(inNorm->str(), op);
    if (failed(norm))
      return failure();
    if (static_cast<int64_t>(norm->scale.size()) != per)
      return op->emitError()
             << "input norm '" << *inNorm << "' has " << norm->scale.size()
             << " channels, expected " << per;
    for (int64_t o = 0; o < cout; ++o) {
      double b = f.bias[o];
      for (int64_t i = 0; i < per; ++i) {
        double wi = (*wv)[o * per + i];
        f.weight[o * per + i] = static_cast<float>(wi * norm->scale[i]);
        b += wi * norm->shift[i];
      }
      f.bias[o] = static_cast<float>(b);
    }
    f.hasBias = true;
  }
  if (outNorm) {
    FailureOr<FoldedNorm> norm = foldNorm(outNorm->str(), op);
    if (failed(norm))
      return failure();
    for (int64_t o = 0; o < cout; ++o) {
      double scale = norm->scale[o];
      for (int64_t i = 0; i < per; ++i)
        f.weight[o * per + i] =
            static_cast<float>(f.weight[o * per + i] * scale);
      // BN(conv + b) = conv·scale + (b·scale + shift).
      f.bias[o] = static_cast<float>(f.bias[o] * scale + norm->shift[o]);
    }
    f.hasBias = true;
  }
  return f;
}

FailureOr<WeightBlob::ConvTensors>
WeightBlob::convTensors(Conv2dOp c, int64_t tileRows, int64_t winogradTile,
                        int64_t coLanes) {
  ConvTensors t;
  if (!c.getNorm() && !c.getInputNorm() && tileRows == 0 && coLanes == 0) {
    // Nothing to fold or pack: the checkpoint tensors as they are.
    FailureOr<int64_t> w = tensor(c.getWeight(), c);
    if (failed(w))
      return failure();
    t.weight = *w;
    if (c.getBias() && !c.getBias()->empty()) {
      FailureOr<int64_t> b = tensor(*c.getBias(), c);
      if (failed(b))
        return failure();
      t.bias = *b;
    }
    return t;
  }
  int64_t cout = shapeOf(c.getOutput())[1];
  FailureOr<FoldedConv> f = foldConv(c.getWeight(), c.getBias(),
                                     c.getInputNorm(), c.getNorm(), cout, c);
  if (failed(f))
    return failure();
  if (winogradTile == 2 || winogradTile == 4) {
    int64_t cin = static_cast<int64_t>(f->weight.size()) / (cout * 9);
    std::vector<float> u =
        winogradTile == 2
            ? ::irmb::kernels::winogradWeights<2>(f->weight.data(), cout, cin)
            : ::irmb::kernels::winogradWeights<4>(f->weight.data(), cout, cin);
    f->weight.assign(u.size(), 0.f);
    int64_t positions = (winogradTile + 2) * (winogradTile + 2);
    for (int64_t xi = 0; xi < positions; ++xi)
      ::irmb::kernels::packWeights(u.data() + xi * cout * cin, cout, cin,
                                   tileRows, f->weight.data() + xi * cout * cin);
  } else if (coLanes > 0) {
    int64_t k = static_cast<int64_t>(f->weight.size()) / cout;
    std::vector<float> packed((cout + coLanes - 1) / coLanes * coLanes * k);
    ::irmb::kernels::packCoLanes(f->weight.data(), cout, k, coLanes,
                                 packed.data());
    f->weight = std::move(packed);
  } else if (tileRows > 0) {
    int64_t groups = static_cast<int64_t>(c.getGroups());
    int64_t rows = cout / groups;
    int64_t k = static_cast<int64_t>(f->weight.size()) / cout;
    std::vector<float> packed(f->weight.size());
    ::irmb::kernels::packGroupedWeights(f->weight.data(), groups, rows, k,
                                        tileRows, packed.data());
    f->weight = std::move(packed);
  }
  t.weight = append(f->weight);
  if (f->hasBias || c.getNorm() || c.getInputNorm())
    t.bias = append(f->bias);
  return t;
}

FailureOr<WeightBlob::EmaTensors> WeightBlob::emaTensors(EMAOp e) {
  EmaTensors t;
  FailureOr<SmallVector<int64_t>> at =
      tensors(e.getPrefix().str(),
              {".gn.weight", ".gn.bias", ".conv1x1.weight", ".conv1x1.bias",
               ".conv3x3.weight", ".conv3x3.bias"},
              e);
  if (failed(at))
    return failure();
  t.weights = *at;
  if (e.getNorm()) {
    auto n = appendNorm(e.getNorm()->str(), e);
    if (failed(n))
      return failure();
    t.norm = *n;
  }
  return t;
}

FailureOr<WeightBlob::SqueezeExciteTensors>
WeightBlob::squeezeExciteTensors(SqueezeExciteOp se) {
  std::string p = se.getPrefix().str();
  const std::vector<float> *reduce = values(p + ".conv_reduce.bias");
  if (!reduce)
    return se.emitError() << "no weight '" << p << ".conv_reduce.bias'";
  FailureOr<SmallVector<int64_t>> at =
      tensors(p,
              {".conv_reduce.weight", ".conv_reduce.bias",
               ".conv_expand.weight", ".conv_expand.bias"},
              se);
  if (failed(at))
    return failure();
  return SqueezeExciteTensors{*at, static_cast<int64_t>(reduce->size())};
}

FailureOr<WeightBlob::StackedProjection>
WeightBlob::stackProjection(ProjectionOp p, int64_t tileRows) {
  int64_t cin = shapeOf(p.getInput())[1];
  std::vector<float> weights, biases;
  StackedProjection out;
  int64_t row = 0;
  for (size_t i = 0; i < p.getWeights().size(); ++i) {
    int64_t channels = p.getChannels()[i];
    StringRef wKey = cast<StringAttr>(p.getWeights()[i]).getValue();
    StringRef bias = cast<StringAttr>(p.getBiases()[i]).getValue();
    FailureOr<FoldedConv> f = foldConv(
        wKey, bias.empty() ? std::nullopt : std::optional<StringRef>(bias),
        p.getInputNorm(), std::nullopt, channels, p);
    if (failed(f))
      return failure();
    if (static_cast<int64_t>(f->weight.size()) != channels * cin)
      return p.emitError() << "weight '" << wKey << "' is not [" << channels
                           << ", " << cin << ", 1, 1]";
    weights.insert(weights.end(), f->weight.begin(), f->weight.end());
    biases.insert(biases.end(), f->bias.begin(), f->bias.end());
    Activation act = cast<ActivationAttr>(p.getActs()[i]).getValue();
    if (out.runs.empty() || out.runs.back().act != act)
      out.runs.push_back({row, row, act});
    row += channels;
    out.runs.back().end = row;
  }
  if (tileRows > 0) {
    // Each run is its own GEMM: pack its rows on their own.
    std::vector<float> packed(weights.size());
    for (const StackedProjection::Run &r : out.runs)
      ::irmb::kernels::packWeights(weights.data() + r.start * cin,
                                   r.end - r.start, cin, tileRows,
                                   packed.data() + r.start * cin);
    weights = std::move(packed);
  }
  out.weight = append(weights);
  out.bias = append(biases);
  return out;
}

} // namespace irmb::codegen
