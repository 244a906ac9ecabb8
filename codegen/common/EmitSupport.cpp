//===- EmitSupport.cpp - what every code generator shares -----------------===//
//
// Weights (checkpoint tensors, folded BatchNorms and convolutions), the
// storage plan (aliases and first-fit arena offsets) and kernel naming, for
// EmitCpp and EmitCuda alike.
//
//===----------------------------------------------------------------------===//
#include "codegen/common/EmitSupport.h"

#include "codegen/cpu/kernels/Packing.h"
#include "codegen/cpu/kernels/WinogradTransforms.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/Support/FormatVariadic.h"

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <unistd.h>

using namespace mlir;
using namespace mlir::irmb;

namespace irmb::codegen {

namespace {
constexpr double kBatchNormEps = 1e-3;
constexpr int64_t kAlignElements = 16;
int64_t aligned(int64_t elements) {
  return (elements + kAlignElements - 1) / kAlignElements * kAlignElements;
}
} // namespace

ArrayRef<int64_t> shapeOf(Value v) {
  return cast<RankedTensorType>(v.getType()).getShape();
}

int64_t perImage(Value v) {
  int64_t n = 1;
  for (int64_t d : shapeOf(v).drop_front())
    n *= d;
  return n;
}

const char *actName(Activation act) {
  switch (act) {
  case Activation::none:
    return "Act::None";
  case Activation::relu:
    return "Act::Relu";
  case Activation::relu6:
    return "Act::Relu6";
  case Activation::silu:
    return "Act::Silu";
  }
  return "Act::None";
}

std::string layerName(Operation *op) {
  if (auto name = dyn_cast<NameLoc>(op->getLoc()))
    return name.getName().str();
  return "";
}

int layerIndex(const std::string &name) {
  size_t dot = name.find('.');
  return dot == std::string::npos ? -1 : std::atoi(name.c_str() + dot + 1);
}

std::string identifier(std::string text) {
  for (char &c : text)
    if (!std::isalnum(static_cast<unsigned char>(c)))
      c = '_';
  return text;
}

std::string sourceLine(Operation *op) {
  Location loc = op->getLoc();
  if (auto name = dyn_cast<NameLoc>(loc))
    loc = name.getChildLoc();
  if (auto file = dyn_cast<FileLineColLoc>(loc))
    return llvm::formatv(" ({0}:{1})", file.getFilename().getValue(),
                         file.getLine())
        .str();
  return "";
}

StringRef kernelOf(Operation *op) {
  auto attr = op->getAttrOfType<StringAttr>("cpu_kernel");
  return attr ? attr.getValue() : StringRef();
}

FailureOr<ModelBody> modelBody(ModuleOp module) {
  auto funcs = module.getOps<func::FuncOp>();
  if (funcs.empty())
    return module.emitError("no function to emit");
  Block &body = (*funcs.begin()).getBody().front();
  ModelBody m{&body, body.getArgument(0), body.getTerminator()->getOperand(0)};
  if (shapeOf(m.result).size() != 3)
    return module.emitError("only detection models (a Detect or v10Detect "
                            "head) can be compiled");
  return m;
}

//===----------------------------------------------------------------------===//
// KernelTable
//===----------------------------------------------------------------------===//

std::pair<int, std::string> KernelTable::add(Operation *op) {
  std::string layer = layerName(op);
  int index = size();
  std::string name =
      llvm::formatv("{0}_{1}_{2}", identifier(layer.empty() ? "op" : layer),
                    kernelOf(op), index)
          .str();
  names.push_back(name);
  layers.push_back(layerIndex(layer));
  flops.push_back(opFlops(op));
  return {index, name};
}

double opFlops(Operation *op) {
  auto elements = [](Value v) {
    double n = 1;
    for (int64_t d : shapeOf(v))
      n *= static_cast<double>(d);
    return n;
  };
  if (auto c = dyn_cast<Conv2dOp>(op)) {
    double taps = static_cast<double>(shapeOf(c.getInput())[1]) /
                  static_cast<double>(c.getGroups()) *
                  static_cast<double>(c.getKernel() * c.getKernel());
    return 2 * elements(c.getOutput()) * taps;
  }
  if (auto p = dyn_cast<ProjectionOp>(op))
    return 2 * elements(p->getResult(0)) *
           static_cast<double>(shapeOf(p.getInput())[1]);
  if (auto a = dyn_cast<AttentionOp>(op)) {
    // Every query against the T keys of its window: q·k and p·v.
    auto q = shapeOf(a.getQuery());
    double window = a.getWindow() > 0
                        ? static_cast<double>(a.getWindow() * a.getWindow())
                        : static_cast<double>(q[2] * q[3]);
    return 2 * window *
           (elements(a.getQuery()) + elements(a.getValue()));
  }
  return 0;
}

std::string cStringLiteral(llvm::StringRef text) {
  std::string out = "\"";
  for (unsigned char c : text) {
    if (c == '"' || c == '\\' || c == '?') { // '?': no trigraphs
      out += '\\';
      out += static_cast<char>(c);
    } else if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else { // octal escapes end after three digits, unlike \x
      out += '\\';
      out += static_cast<char>('0' + (c >> 6));
      out += static_cast<char>('0' + ((c >> 3) & 7));
      out += static_cast<char>('0' + (c & 7));
    }
  }
  return out + "\"";
}

std::string KernelTable::tables(const Descriptor &d) const {
  std::string text = "static const char *const kClassNames[] = {\n";
  int64_t numClasses = d.output[1] - 4;
  for (int64_t c = 0; c < numClasses; ++c)
    text += "    " +
            cStringLiteral(static_cast<size_t>(c) < d.classNames.size()
                               ? d.classNames[c]
                               : std::to_string(c)) +
            ",\n";
  text += "};\nstatic const char *const kKernelNames[] = {\n";
  for (const std::string &n : names)
    text += "    \"" + n + "\",\n";
  text += "};\nstatic const int kKernelLayers[] = {";
  for (int l : layers)
    text += std::to_string(l) + ", ";
  text += "};\nstatic const double kKernelFlops[] = {";
  for (double f : flops)
    text += llvm::formatv("{0:e}, ", f).str();
  return text + "};\n\n";
}

std::string KernelTable::descriptor(const Descriptor &d) const {
  return llvm::formatv(
             "{{IRMB_MODEL_ABI_VERSION, {0}, {1}, {2}, {3},\n"
             "     {{{4}, {5}, {6}, {7}}, {{{8}, {9}, {10}},\n"
             "     {11}, {12}, {13}, {14}, {15}, kKernelNames, kKernelLayers,\n"
             "     kKernelFlops, kClassNames}",
             cStringLiteral(d.source), cStringLiteral(d.target),
             cStringLiteral(d.isa), cStringLiteral(d.precision), d.input[0], d.input[1],
             d.input[2], d.input[3], d.output[0], d.output[1], d.output[2],
             d.output[1] - 4, d.isV10 ? 1 : 0, d.arenaBytes, size(), d.launches)
      .str();
}

//===----------------------------------------------------------------------===//
// WeightBlob
//===----------------------------------------------------------------------===//

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

//===----------------------------------------------------------------------===//
// ArenaPlanner
//===----------------------------------------------------------------------===//

int64_t ArenaPlanner::allocate(int64_t elements) {
  elements = aligned(elements);
  for (auto it = free.begin(); it != free.end(); ++it) {
    if (it->second < elements)
      continue;
    int64_t at = it->first;
    int64_t rest = it->second - elements;
    free.erase(it);
    if (rest > 0)
      free[at + elements] = rest;
    return at;
  }
  int64_t at = top;
  top += elements;
  peakElements = std::max(peakElements, top);
  return at;
}

void ArenaPlanner::release(int64_t at, int64_t elements) {
  elements = aligned(elements);
  free[at] = elements;
  // Merge with the following and preceding blocks.
  auto it = free.find(at);
  auto next = std::next(it);
  if (next != free.end() && at + elements == next->first) {
    it->second += next->second;
    free.erase(next);
  }
  if (it != free.begin()) {
    auto prev = std::prev(it);
    if (prev->first + prev->second == it->first) {
      prev->second += it->second;
      free.erase(it);
    }
  }
}

//===----------------------------------------------------------------------===//
// StoragePlan
//===----------------------------------------------------------------------===//

void StoragePlan::collectAliases(Block &body) {
  for (Operation &op : body) {
    if (auto slice = dyn_cast<SliceOp>(op); slice && slice.getView()) {
      auto in = shapeOf(slice.getInput());
      aliasOf[slice.getOutput()] = {slice.getInput(),
                                    static_cast<int64_t>(slice.getStart()) *
                                        in[2] * in[3]};
    }
    if (auto cat = dyn_cast<CatOp>(op); cat && cat.getInPlace()) {
      int64_t at = 0;
      for (auto [i, v] : llvm::enumerate(cat.getInputs())) {
        if ((*cat.getInPlace())[i]) {
          // The input's storage root moves into the cat (a view input
          // places its whole source; irmb-concat-in-place checked that the
          // cat's views cover it in order).
          Alias where = resolve(v);
          if (where.root != cat.getOutput())
            aliasOf[where.root] = {cat.getOutput(), at - where.offset};
        }
        at += perImage(v);
      }
    }
  }
}

StoragePlan::Alias StoragePlan::resolve(Value v) const {
  int64_t offset = 0;
  for (auto it = aliasOf.find(v); it != aliasOf.end(); it = aliasOf.find(v)) {
    offset += it->second.offset;
    v = it->second.root;
  }
  return {v, offset};
}

std::optional<int64_t> StoragePlan::arenaOffset(Value root) const {
  auto it = offsets.find(root);
  if (it == offsets.end())
    return std::nullopt;
  return it->second;
}

StoragePlan::StoragePlan(Block &body, Value input, Value result) {
  collectAliases(body);
  llvm::DenseMap<Value, int64_t> firstDef, lastUse;
  int64_t index = 0;
  for (Operation &op : body) {
    for (Value v : op.getResults()) {
      Value root = resolve(v).root;
      if (!firstDef.count(root))
        firstDef[root] = index;
    }
    for (Value v : op.getOperands())
      lastUse[resolve(v).root] = index;
    ++index;
  }
  // Roots in order of definition (a root may be defined before the value it
  // is named after, e.g. a cat written in place).
  std::map<int64_t, SmallVector<Value>> defined, dying;
  for (auto [root, at] : firstDef)
    defined[at].push_back(root);
  for (auto [root, at] : lastUse)
    dying[at].push_back(root);
  for (int64_t i = 0; i < index; ++i) {
    for (Value root : defined[i])
      if (root != result && root != input)
        offsets[root] = arena.allocate(perImage(root));
    for (Value root : dying[i])
      if (root != input && root != result && offsets.count(root))
        arena.release(offsets[root], perImage(root));
  }
}

//===----------------------------------------------------------------------===//
// Building
//===----------------------------------------------------------------------===//

std::string buildLibrary(const std::vector<BuildFile> &files,
                         const std::string &command,
                         const std::string &compiler,
                         const std::string &outputPath) {
  namespace fs = std::filesystem;
  char tmpl[] = "/tmp/irmb-build-XXXXXX";
  if (!mkdtemp(tmpl))
    return "cannot create a temporary build folder";
  fs::path dir(tmpl);
  for (const BuildFile &f : files)
    std::ofstream(dir / f.name, std::ios::binary).write(f.data, f.size);
  std::string tmpOut = fs::absolute(outputPath + ".tmp").string();
  std::string line = command;
  for (size_t at = line.find("{out}"); at != std::string::npos;
       at = line.find("{out}"))
    line.replace(at, 5, "'" + tmpOut + "'");
  line = "cd '" + dir.string() + "' && " + line + " > build.log 2>&1";
  if (std::system(line.c_str()) != 0) {
    std::ifstream log(dir / "build.log");
    std::string text, last;
    while (std::getline(log, text))
      if (!text.empty() && last.find("error") == std::string::npos)
        last = text;
    std::remove(tmpOut.c_str());
    if (last.empty())
      last = "no output";
    return compiler + " failed (" + last + "); sources and build.log kept in " +
           dir.string();
  }
  std::error_code ec;
  fs::rename(tmpOut, outputPath, ec);
  if (ec)
    return "cannot write '" + outputPath + "': " + ec.message();
  if (std::getenv("IRMB_KEEP_BUILD"))
    std::fprintf(stderr, "irmb-compile: sources kept in %s\n",
                 dir.string().c_str());
  else
    fs::remove_all(dir, ec);
  return "";
}

} // namespace irmb::codegen
