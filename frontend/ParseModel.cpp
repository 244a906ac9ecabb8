//===- ParseModel.cpp - Ultralytics parse_model semantics -----------------===//
//
// The module table (names, constructor signatures, width-scaling and
// repeat-absorbing sets) and the parse_model loop. Numbers are computed in
// double precision with Python's rounding rules so channel counts match
// Ultralytics bit for bit.
//
//===----------------------------------------------------------------------===//
#include "frontend/ParseModel.h"

#include <cfenv>
#include <cmath>
#include <filesystem>
#include <regex>

using namespace irmb::frontend;
using Kind = PyValue::Kind;

//===----------------------------------------------------------------------===//
// Numbers
//===----------------------------------------------------------------------===//

int64_t irmb::frontend::pythonRound(double x) {
  std::fesetround(FE_TONEAREST);
  return static_cast<int64_t>(std::nearbyint(x));
}

int64_t irmb::frontend::makeDivisible(double x, int64_t divisor) {
  return static_cast<int64_t>(std::ceil(x / static_cast<double>(divisor))) *
         divisor;
}

std::string irmb::frontend::guessScaleFromPath(const std::string &path) {
  // Union of the YOLOv10 fork's `yolov\d+([nsblmx])` and 8.3's
  // `yolo[v]?\d+([nslmx])`, searched in the file stem.
  static const std::regex pattern("yolov?\\d+([nsblmx])");
  std::string stem = std::filesystem::path(path).stem().string();
  std::smatch match;
  if (std::regex_search(stem, match, pattern))
    return match[1].str();
  return "";
}

//===----------------------------------------------------------------------===//
// BoundArgs
//===----------------------------------------------------------------------===//

void BoundArgs::add(std::string name, PyValue v) {
  values.emplace_back(std::move(name), std::move(v));
}

const PyValue &BoundArgs::get(const std::string &name) const {
  for (const auto &[n, v] : values)
    if (n == name)
      return v;
  throw FrontendError(path, fallbackLoc,
                      module + " has no parameter '" + name + "'");
}

/// Position of an argument, or of its row when it was inserted.
static SourceLoc argLoc(const PyValue &v, SourceLoc fallback) {
  return v.loc.line > 0 ? v.loc : fallback;
}

int64_t BoundArgs::integer(const std::string &name) const {
  const PyValue &v = get(name);
  if (v.kind == Kind::Int)
    return v.intValue;
  if (v.kind == Kind::Float && v.floatValue == std::floor(v.floatValue) &&
      std::fabs(v.floatValue) < 1e15)
    return static_cast<int64_t>(v.floatValue);
  throw FrontendError(path, argLoc(v, fallbackLoc),
                      module + " argument '" + name +
                          "' must be an integer, got " + v.typeName() + " " +
                          v.repr());
}

double BoundArgs::real(const std::string &name) const {
  const PyValue &v = get(name);
  if (v.kind == Kind::Int)
    return static_cast<double>(v.intValue);
  if (v.kind == Kind::Float)
    return v.floatValue;
  throw FrontendError(path, argLoc(v, fallbackLoc),
                      module + " argument '" + name +
                          "' must be a number, got " + v.typeName() + " " +
                          v.repr());
}

bool BoundArgs::boolean(const std::string &name) const {
  const PyValue &v = get(name);
  if (v.kind == Kind::Bool)
    return v.boolValue;
  if (v.kind == Kind::Int && (v.intValue == 0 || v.intValue == 1))
    return v.intValue == 1;
  throw FrontendError(path, argLoc(v, fallbackLoc),
                      module + " argument '" + name +
                          "' must be True or False, got " + v.typeName() + " " +
                          v.repr());
}

std::string BoundArgs::string(const std::string &name) const {
  const PyValue &v = get(name);
  if (v.kind == Kind::Str)
    return v.strValue;
  throw FrontendError(path, argLoc(v, fallbackLoc),
                      module + " argument '" + name +
                          "' must be a string, got " + v.typeName() + " " +
                          v.repr());
}

bool BoundArgs::isNone(const std::string &name) const {
  return get(name).kind == Kind::None;
}

//===----------------------------------------------------------------------===//
// The module table
//===----------------------------------------------------------------------===//

namespace {

/// One constructor parameter; `required` ones have no default.
struct Param {
  const char *name;
  bool required;
  PyValue defaultValue;
};

Param req(const char *name) { return {name, true, PyValue::none()}; }
Param opt(const char *name, PyValue v) { return {name, false, std::move(v)}; }
PyValue I(int64_t v) { return PyValue::integer(v); }
PyValue F(double v) { return PyValue::real(v); }
PyValue B(bool v) { return PyValue::boolean(v); }
PyValue S(const char *v) { return PyValue::str(v); }
PyValue None() { return PyValue::none(); }

/// How parse_model treats a module.
struct ModuleInfo {
  const char *name;
  ModuleKind kind;
  bool widthScaled;    ///< c1 = ch[f], c2 = make_divisible(...)
  bool absorbsRepeats; ///< args.insert(2, n)
  std::vector<Param> signature;
};

const std::vector<ModuleInfo> &moduleTable() {
  static const std::vector<ModuleInfo> table = {
      {"Conv",
       ModuleKind::Conv,
       true,
       false,
       {req("c1"), req("c2"), opt("k", I(1)), opt("s", I(1)), opt("p", None()),
        opt("g", I(1)), opt("d", I(1)), opt("act", B(true))}},
      {"DWConv",
       ModuleKind::DWConv,
       true,
       false,
       {req("c1"), req("c2"), opt("k", I(1)), opt("s", I(1)), opt("d", I(1)),
        opt("act", B(true))}},
      {"Concat", ModuleKind::Concat, false, false, {opt("dimension", I(1))}},
      {"nn.Upsample",
       ModuleKind::Upsample,
       false,
       false,
       {opt("size", None()), opt("scale_factor", None()),
        opt("mode", S("nearest")), opt("align_corners", None()),
        opt("recompute_scale_factor", None())}},
      {"C2f",
       ModuleKind::C2f,
       true,
       true,
       {req("c1"), req("c2"), opt("n", I(1)), opt("shortcut", B(false)),
        opt("g", I(1)), opt("e", F(0.5))}},
      {"C2f_iRMB",
       ModuleKind::C2fIRMB,
       true,
       true,
       {req("c1"), req("c2"), opt("n", I(1)), opt("shortcut", B(false)),
        opt("g", I(1)), opt("e", F(0.5))}},
      {"C3k2",
       ModuleKind::C3k2,
       true,
       true,
       {req("c1"), req("c2"), opt("n", I(1)), opt("c3k", B(false)),
        opt("e", F(0.5)), opt("g", I(1)), opt("shortcut", B(true))}},
      {"C2fCIB",
       ModuleKind::C2fCIB,
       true,
       true,
       {req("c1"), req("c2"), opt("n", I(1)), opt("shortcut", B(false)),
        opt("lk", B(false)), opt("g", I(1)), opt("e", F(0.5))}},
      {"SCDown",
       ModuleKind::SCDown,
       true,
       false,
       {req("c1"), req("c2"), req("k"), req("s")}},
      {"SPPF",
       ModuleKind::SPPF,
       true,
       false,
       {req("c1"), req("c2"), opt("k", I(5))}},
      {"PSA",
       ModuleKind::PSA,
       true,
       false,
       {req("c1"), req("c2"), opt("e", F(0.5))}},
      {"C2PSA",
       ModuleKind::C2PSA,
       true,
       true,
       {req("c1"), req("c2"), opt("n", I(1)), opt("e", F(0.5))}},
      {"iRMB",
       ModuleKind::IRMB,
       false,
       false,
       {req("dim_in"),
        req("dim_out"),
        opt("norm_in", B(true)),
        opt("has_skip", B(true)),
        opt("exp_ratio", F(1.0)),
        opt("norm_layer", S("bn_2d")),
        opt("act_layer", S("relu")),
        opt("v_proj", B(true)),
        opt("dw_ks", I(3)),
        opt("stride", I(1)),
        opt("dilation", I(1)),
        opt("se_ratio", F(0.0)),
        opt("dim_head", I(8)),
        opt("window_size", I(7)),
        opt("attn_s", B(true)),
        opt("qkv_bias", B(false)),
        opt("attn_drop", F(0.0)),
        opt("drop", F(0.0)),
        opt("drop_path", F(0.0)),
        opt("v_group", B(false)),
        opt("attn_pre", B(false))}},
      {"iEMA",
       ModuleKind::IEMA,
       false,
       false,
       {req("dim_in"), opt("norm_in", B(true)), opt("has_skip", B(true)),
        opt("exp_ratio", F(1.0)), opt("norm_layer", S("bn_2d")),
        opt("act_layer", S("relu")), opt("v_proj", B(true)), opt("dw_ks", I(3)),
        opt("stride", I(1)), opt("dilation", I(1)), opt("se_ratio", F(0.0)),
        opt("attn_s", B(true)), opt("qkv_bias", B(false)), opt("drop", F(0.0)),
        opt("drop_path", F(0.0))}},
      {"Detect",
       ModuleKind::Detect,
       false,
       false,
       {opt("nc", I(80)), opt("ch", PyValue::list({}))}},
      {"v10Detect",
       ModuleKind::V10Detect,
       false,
       false,
       {opt("nc", I(80)), opt("ch", PyValue::list({}))}},
  };
  return table;
}

/// The table entry for `name`, or nullptr.
const ModuleInfo *findModule(const std::string &name) {
  for (const ModuleInfo &info : moduleTable())
    if (name == info.name)
      return &info;
  return nullptr;
}

/// "Conv, DWConv, ..." for error messages.
std::string knownModules() {
  std::string s;
  for (const ModuleInfo &info : moduleTable())
    s += (s.empty() ? "" : ", ") + std::string(info.name);
  return s;
}

/// Largest channel count accepted for a layer (guards against overflow).
constexpr int64_t kMaxChannels = kMaxModelChannels;

/// The parse_model loop state.
class ModelParser {
public:
  ModelParser(const ModelFile &file, const ParseOptions &options)
      : file(file), options(options) {}

  ResolvedModel run() {
    model.path = file.path;
    model.inputChannels = file.inputChannels;
    model.nc = options.nc ? *options.nc : (file.nc ? *file.nc : 80);
    if (options.nc && (*options.nc < 1 || *options.nc > kMaxClasses))
      fail({}, "--nc must be in [1, " + std::to_string(kMaxClasses) + "]");
    if (file.activation && *file.activation != "nn.SiLU()")
      fail(file.activationLoc, "activation '" + *file.activation +
                                   "' is not supported (only nn.SiLU(), "
                                   "the Ultralytics default)");
    chooseScale();
    for (const LayerRow &row : file.layers)
      if (row.module == "C3k2")
        model.hasC3k2 = true;
    for (size_t i = 0; i < file.layers.size(); ++i)
      layer(static_cast<int64_t>(i), file.layers[i]);
    if (model.layers.empty())
      fail({}, "the model has no layers");
    return model;
  }

private:
  [[noreturn]] void fail(SourceLoc loc, const std::string &msg) const {
    throw FrontendError(file.path, loc, msg);
  }

  void chooseScale() {
    if (file.scales.empty()) {
      if (options.scale)
        fail(file.scalesLoc, "--scale " + *options.scale +
                                 " given but the file has no 'scales'");
      model.depth = file.depthMultiple.value_or(1.0);
      model.width = file.widthMultiple.value_or(1.0);
      model.maxChannels = INT64_MAX;
      return;
    }
    std::string scale =
        options.scale ? *options.scale
        : file.scale  ? *file.scale
                      : guessScaleFromPath(file.path);
    if (scale.empty()) {
      scale = file.scales.front().name;
      model.warnings.push_back("no model scale given; assuming scale='" +
                               scale + "' (the first key of 'scales')");
    }
    for (const ScaleEntry &entry : file.scales) {
      if (entry.name != scale)
        continue;
      model.scale = scale;
      model.depth = entry.depth;
      model.width = entry.width;
      model.maxChannels = entry.maxChannels;
      return;
    }
    std::string known;
    for (const ScaleEntry &entry : file.scales)
      known += (known.empty() ? "" : ", ") + entry.name;
    fail(file.scalesLoc,
         "unknown scale '" + scale + "' (the file defines " + known + ")");
  }

  /// Absolute index of a `from` entry of layer i (-1 = network input).
  int64_t absoluteFrom(int64_t f, int64_t i, SourceLoc loc) const {
    if (f == -1)
      return i - 1;
    int64_t abs = f < 0 ? i + f : f;
    if (abs < 0 || abs >= i)
      fail(loc, "'from' index " + std::to_string(f) + " of layer " +
                    std::to_string(i) + " is out of range (valid: -1, or " +
                    (i == 0 ? std::string("nothing else for layer 0")
                            : "0.." + std::to_string(i - 1) + " and -" +
                                  std::to_string(i) + "..-2") +
                    ")");
    if (abs >= 0 && isHead(model.layers[abs].kind))
      fail(loc, "layer " + std::to_string(i) + " reads the output of " +
                    model.layers[abs].moduleName + " layer " +
                    std::to_string(abs) + ", which is a detection head");
    return abs;
  }

  static bool isHead(ModuleKind k) {
    return k == ModuleKind::Detect || k == ModuleKind::V10Detect;
  }

  /// Output width of an absolute source index.
  int64_t widthOf(int64_t abs) const {
    return abs < 0 ? model.inputChannels : model.layers[abs].outChannels;
  }

  /// Python-evaluates the string arguments (nc lookup, literal_eval).
  std::vector<PyValue> evaluateArgs(const LayerRow &row) const {
    std::vector<PyValue> args = row.args;
    for (PyValue &a : args) {
      if (a.kind != Kind::Str)
        continue;
      if (a.strValue == "nc")
        a = PyValue::integer(model.nc, a.loc);
      else
        literalEval(a.strValue, a.loc, a);
    }
    return args;
  }

  BoundArgs bind(const ModuleInfo &info, const std::vector<PyValue> &args,
                 const LayerRow &row) const {
    BoundArgs bound;
    bound.path = file.path;
    bound.fallbackLoc = row.argsLoc;
    bound.module = info.name;
    if (args.size() > info.signature.size()) {
      SourceLoc loc = argLoc(args[info.signature.size()], row.argsLoc);
      fail(loc, std::string(info.name) + " takes at most " +
                    std::to_string(info.signature.size()) +
                    " arguments after parse_model, got " +
                    std::to_string(args.size()));
    }
    for (size_t k = 0; k < info.signature.size(); ++k) {
      const Param &p = info.signature[k];
      if (k < args.size())
        bound.add(p.name, args[k]);
      else if (p.required)
        fail(row.argsLoc,
             std::string(info.name) + " is missing argument '" + p.name + "'");
      else
        bound.add(p.name, p.defaultValue);
    }
    return bound;
  }

  /// The single source of a one-input module.
  int64_t singleSource(const ResolvedLayer &layer, const LayerRow &row) const {
    if (row.fromIsList && layer.from.size() != 1)
      fail(row.fromLoc,
           layer.moduleName + " takes one input; 'from' must be one index");
    return layer.from.front();
  }

  void layer(int64_t i, const LayerRow &row) {
    const ModuleInfo *info = findModule(row.module);
    if (!info)
      fail(row.moduleLoc, "unknown module '" + row.module +
                              "' (known: " + knownModules() + ")");
    ResolvedLayer layer;
    layer.index = i;
    layer.moduleName = info->name;
    layer.kind = info->kind;
    layer.loc = row.loc;
    for (size_t k = 0; k < row.from.size(); ++k)
      layer.fromText += (k ? ", " : "") + std::to_string(row.from[k]);
    if (row.fromIsList)
      layer.fromText = "[" + layer.fromText + "]";
    for (int64_t f : row.from)
      layer.from.push_back(absoluteFrom(f, i, row.fromLoc));

    if (row.repeats < 1 || row.repeats > kMaxRepeats)
      fail(row.repeatsLoc, "repeats must be in [1, " +
                               std::to_string(kMaxRepeats) + "], got " +
                               std::to_string(row.repeats));
    int64_t n =
        row.repeats > 1
            ? std::max<int64_t>(
                  pythonRound(static_cast<double>(row.repeats) * model.depth),
                  1)
            : row.repeats;
    layer.repeats = n;

    std::vector<PyValue> args = evaluateArgs(row);
    int64_t c2 = 0;
    if (info->widthScaled) {
      int64_t c1 = widthOf(singleSource(layer, row));
      if (args.empty())
        fail(row.argsLoc,
             layer.moduleName + " needs its output width as first argument");
      if (args[0].kind != Kind::Int)
        fail(argLoc(args[0], row.argsLoc),
             layer.moduleName + " output width must be an integer, got " +
                 args[0].typeName() + " " + args[0].repr());
      c2 = args[0].intValue;
      if (c2 != model.nc)
        c2 = makeDivisible(
            static_cast<double>(std::min(c2, model.maxChannels)) * model.width,
            8);
      std::vector<PyValue> resolved{PyValue::integer(c1),
                                    PyValue::integer(c2, args[0].loc)};
      resolved.insert(resolved.end(), args.begin() + 1, args.end());
      args = std::move(resolved);
      if (info->absorbsRepeats) {
        args.insert(args.begin() + 2, PyValue::integer(n));
        n = 1;
      }
      if (info->kind == ModuleKind::C3k2 &&
          std::string("mlx").find(model.scale) != std::string::npos &&
          !model.scale.empty()) {
        if (args.size() <= 3)
          fail(row.argsLoc, "C3k2 at scale '" + model.scale +
                                "' needs its c3k argument (Ultralytics sets "
                                "args[3] = True)");
        args[3] = PyValue::boolean(true, args[3].loc);
      }
    } else if (info->kind == ModuleKind::Concat) {
      for (int64_t f : layer.from)
        c2 += widthOf(f);
      if (!row.fromIsList)
        fail(row.fromLoc, "Concat needs a list of inputs in 'from'");
    } else if (info->kind == ModuleKind::Detect ||
               info->kind == ModuleKind::V10Detect) {
      if (!row.fromIsList)
        fail(row.fromLoc,
             layer.moduleName + " needs a list of feature levels in 'from'");
      std::vector<PyValue> widths;
      for (int64_t f : layer.from)
        widths.push_back(PyValue::integer(widthOf(f)));
      args.push_back(PyValue::list(std::move(widths)));
      c2 = previousC2;
    } else if (info->kind == ModuleKind::IRMB) {
      int64_t c1 = widthOf(singleSource(layer, row));
      args.insert(args.begin(), PyValue::integer(c1));
      // The seed's branch leaves c2 stale; the real width is dim_out.
      if (args.size() < 2)
        fail(row.argsLoc, "iRMB is missing argument 'dim_out'");
      if (args[1].kind != Kind::Int)
        fail(argLoc(args[1], row.argsLoc),
             "iRMB argument 'dim_out' must be an integer, got " +
                 std::string(args[1].typeName()) + " " + args[1].repr());
      c2 = args[1].intValue;
      if (havePreviousC2 && previousC2 != c2)
        model.warnings.push_back(
            file.path + ":" + std::to_string(row.loc.line) + ":" +
            std::to_string(row.loc.column) + ": iRMB dim_out " +
            std::to_string(c2) +
            " differs from the width Ultralytics "
            "records for this layer (" +
            std::to_string(previousC2) +
            "); irmb uses dim_out, the PyTorch model would break here");
    } else if (info->kind == ModuleKind::IEMA) {
      c2 = widthOf(singleSource(layer, row));
      args.insert(args.begin(), PyValue::integer(c2));
    } else {
      c2 = widthOf(singleSource(layer, row));
    }

    if (n > 1 &&
        (info->kind == ModuleKind::Concat || info->kind == ModuleKind::Detect ||
         info->kind == ModuleKind::V10Detect))
      fail(row.repeatsLoc, layer.moduleName + " cannot be repeated (n = " +
                               std::to_string(n) + ")");
    bool head = isHead(info->kind);
    if (!head && (c2 < 1 || c2 > kMaxChannels))
      fail(row.loc, layer.moduleName + " output width " + std::to_string(c2) +
                        " is out of range (1.." + std::to_string(kMaxChannels) +
                        ")");
    layer.sequentialCopies = n;
    layer.bound = bind(*info, args, row);
    layer.args = std::move(args);
    layer.outChannels = c2;
    if (n > 1 && layer.kind != ModuleKind::Upsample &&
        widthOf(layer.from.front()) != c2)
      fail(row.repeatsLoc, "repeating " + layer.moduleName + " " +
                               std::to_string(n) +
                               " times in an nn.Sequential needs equal "
                               "input and output widths (" +
                               std::to_string(widthOf(layer.from.front())) +
                               " vs " + std::to_string(c2) + ")");
    previousC2 = c2;
    havePreviousC2 = true;
    model.layers.push_back(std::move(layer));
  }

  const ModelFile &file;
  const ParseOptions &options;
  ResolvedModel model;
  int64_t previousC2 = 0;
  bool havePreviousC2 = false;
};

} // namespace

ResolvedModel irmb::frontend::parseModel(const ModelFile &file,
                                         const ParseOptions &options) {
  return ModelParser(file, options).run();
}

ResolvedModel irmb::frontend::loadModel(const std::string &path,
                                        const ParseOptions &options) {
  return parseModel(readModelFile(path), options);
}
