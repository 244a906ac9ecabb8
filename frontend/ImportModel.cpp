//===- ImportModel.cpp - build irmb IR from a resolved model --------------===//
//
// Maps each resolved Ultralytics layer to its irmb op: reads the bound
// constructor arguments, derives the op attributes (autopad, hidden widths,
// head counts, the `#irmb.mmb` configuration of iRMB / iEMA / C2f_iRMB),
// infers the result type and verifies the op.
//
//===----------------------------------------------------------------------===//
#include "frontend/ImportModel.h"

#include "dialects/IRMB/IR/IRMBOps.h"
#include "dialects/IRMB/IR/ShapeInference.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/Verifier.h"
#include <numeric>

using namespace mlir;
using namespace irmb;
using namespace ::irmb::frontend;

namespace {

/// Parses an EMO activation name.
Activation activationByName(const BoundArgs &args, const std::string &name) {
  std::string act = args.string(name);
  if (act == "none")
    return Activation::none;
  if (act == "relu")
    return Activation::relu;
  if (act == "relu6")
    return Activation::relu6;
  if (act == "silu")
    return Activation::silu;
  throw FrontendError(args.path,
                      args.get(name).loc.line ? args.get(name).loc
                                              : args.fallbackLoc,
                      args.module + " " + name + " '" + act +
                          "' is not supported (none, relu, relu6, silu)");
}

/// Checks that an MMB's norm_layer is the BatchNorm the compiler implements.
void requireBatchNorm(const BoundArgs &args) {
  if (args.boolean("norm_in") && args.string("norm_layer") != "bn_2d")
    throw FrontendError(args.path, args.get("norm_layer").loc,
                        args.module + " norm_layer '" +
                            args.string("norm_layer") +
                            "' is not supported (only bn_2d)");
}

/// An error at `loc` whose message starts with `prefix`.
InFlightDiagnostic prefixedError(Location loc, const char *prefix) {
  InFlightDiagnostic diag = emitError(loc);
  diag << prefix;
  return diag;
}

/// Builds layers into a function body.
class Importer {
public:
  Importer(MLIRContext &ctx, const ResolvedModel &model,
           const ImportOptions &options)
      : ctx(ctx), model(model), options(options), builder(&ctx) {}

  OwningOpRef<ModuleOp> run(LayerOps *layerOps) {
    Location fileLoc = FileLineColLoc::get(&ctx, model.path, 1, 1);
    OwningOpRef<ModuleOp> module = ModuleOp::create(fileLoc);
    module->getOperation()->setAttr("irmb.source",
                                    builder.getStringAttr(model.path));
    module->getOperation()->setAttr("irmb.scale",
                                    builder.getStringAttr(model.scale));
    auto inputType = tensor(
        {options.batch, model.inputChannels, options.height, options.width});
    builder.setInsertionPointToEnd(module->getBody());
    auto func = func::FuncOp::create(builder, fileLoc, "forward",
                                     builder.getFunctionType({inputType}, {}));
    Block *body = func.addEntryBlock();
    builder.setInsertionPointToEnd(body);
    input = body->getArgument(0);
    for (const ResolvedLayer &layer : model.layers) {
      std::vector<Operation *> ops;
      if (failed(importLayer(layer, ops)))
        return nullptr;
      outputs.push_back(ops.back()->getResult(0));
      if (layerOps)
        layerOps->push_back(std::move(ops));
    }
    Value result = outputs.back();
    func::ReturnOp::create(builder, fileLoc, result);
    func.setFunctionType(
        builder.getFunctionType({inputType}, {result.getType()}));
    return module;
  }

private:
  RankedTensorType tensor(ArrayRef<int64_t> shape) {
    return RankedTensorType::get(shape, builder.getF32Type());
  }

  Value source(int64_t abs) const { return abs < 0 ? input : outputs[abs]; }

  int64_t totalParameters = 0;

  /// Builds one op per nn.Sequential copy of the layer.
  LogicalResult importLayer(const ResolvedLayer &layer,
                            std::vector<Operation *> &ops) {
    Location loc =
        FileLineColLoc::get(&ctx, model.path, layer.loc.line, layer.loc.column);
    std::string key = "model." + std::to_string(layer.index);
    Value current;
    for (int64_t copy = 0; copy < layer.sequentialCopies; ++copy) {
      std::string copyKey =
          layer.sequentialCopies > 1 ? key + "." + std::to_string(copy) : key;
      SmallVector<Value> inputs;
      if (copy == 0)
        for (int64_t f : layer.from)
          inputs.push_back(source(f));
      else
        inputs.push_back(current);
      Operation *op = buildOp(layer, loc, copyKey, inputs);
      if (!op)
        return failure();
      if (failed(verify(op)) || failed(checkSize(op))) {
        op->erase();
        return failure();
      }
      ops.push_back(op);
      current = op->getResult(0);
    }
    return success();
  }

  /// Bounds what a layer may ask for, so that absurd arguments (an
  /// expansion ratio of 1e6, a kernel of 1e5) are one error here, not an
  /// allocation of gigabytes later: its parameters (and the model's), and
  /// its output map, each counted without overflow.
  LogicalResult checkSize(Operation *op) {
    constexpr int64_t kMaxParameters = int64_t(1) << 29;  // 2 GiB of fp32
    constexpr int64_t kMaxOutputElements = int64_t(1) << 33; // 32 GiB
    // The output map first: describing the layer computes with its size.
    for (Value r : op->getResults())
      if (auto t = dyn_cast<RankedTensorType>(r.getType())) {
        int64_t n = 1;
        for (int64_t d : t.getShape())
          if (d < 0 || __builtin_mul_overflow(n, d, &n) ||
              n > kMaxOutputElements)
            return op->emitError()
                   << "the output of this layer would have more than "
                   << kMaxOutputElements << " elements (batch x channels x "
                   << "height x width; check --imgsz, --batch and the layer's "
                      "arguments)";
      }
    auto layerOp = dyn_cast<LayerOpInterface>(op);
    if (!layerOp)
      return success();
    LayerDescription desc;
    layerOp.describeLayer(desc);
    int64_t layerParams = 0;
    for (const StateDictEntry &e : desc.entries) {
      int64_t n = 1;
      for (int64_t d : e.shape)
        if (d < 0 || __builtin_mul_overflow(n, d, &n) || n > kMaxParameters)
          return op->emitError() << "'" << e.key << "' would have more than "
                                 << kMaxParameters
                                 << " elements (check this layer's arguments)";
      layerParams += n;
    }
    // 2^50 multiply-adds is 10^6 times the largest real layer at 640 x 640
    // (the window attention of a huge window is the way past it).
    constexpr double kMaxLayerMacs = double(int64_t(1) << 50);
    if (!(desc.deployedMacs <= kMaxLayerMacs))
      return op->emitError()
             << "this layer would need more than 2^50 multiply-adds (check "
                "its arguments)";
    totalParameters += layerParams;
    if (totalParameters > kMaxParameters)
      return op->emitError()
             << "the model would have more than " << kMaxParameters
             << " parameters (this layer adds " << layerParams
             << "; check its arguments)";
    return success();
  }

  /// Infers the result type via `infer` and creates the op with `create`.
  template <typename InferFn, typename CreateFn>
  Operation *build(Location loc, InferFn infer, CreateFn create) {
    FailureOr<Shape> shape = infer([&] { return emitError(loc); });
    if (failed(shape))
      return nullptr;
    return create(tensor(*shape));
  }

  Operation *buildOp(const ResolvedLayer &layer, Location loc,
                     const std::string &key, ArrayRef<Value> inputs) {
    const BoundArgs &a = layer.bound;
    Value x = inputs.front();
    auto keyAttr = builder.getStringAttr(key);
    int64_t c2 = layer.outChannels;
    auto same = [&](EmitErrorFn e) {
      return inferSamePlaneShape(shapeOf(x), c2, e);
    };
    switch (layer.kind) {
    case ModuleKind::Conv:
    case ModuleKind::DWConv: {
      int64_t k = a.integer("k"), s = a.integer("s"), d = a.integer("d");
      bool dw = layer.kind == ModuleKind::DWConv;
      int64_t g = dw ? std::gcd(a.integer("c1"), c2) : a.integer("g");
      int64_t p = (dw || a.isNone("p")) ? autopad(k, d) : a.integer("p");
      if (k < 1 || s < 1 || d < 1 || g < 1 || p < 0)
        throw FrontendError(model.path, layer.loc,
                            layer.moduleName + " needs k, s, d, g >= 1 and "
                                               "p >= 0");
      Activation act = a.boolean("act") ? Activation::silu : Activation::none;
      return build(
          loc,
          [&](EmitErrorFn e) {
            return inferConvShape(shapeOf(x), c2, k, s, p, d, e);
          },
          [&](Type t) {
            return ConvOp::create(builder, loc, t, x, keyAttr, k, s, p, g, d,
                                  act)
                .getOperation();
          });
    }
    case ModuleKind::Concat: {
      int64_t dim = a.integer("dimension");
      if (dim != 1 && dim != -3)
        throw FrontendError(model.path, a.get("dimension").loc,
                            "Concat along dimension " + std::to_string(dim) +
                                " is not supported (only channels, 1)");
      SmallVector<ArrayRef<int64_t>> shapes;
      for (Value v : inputs)
        shapes.push_back(shapeOf(v));
      return build(
          loc, [&](EmitErrorFn e) { return inferConcatShape(shapes, 1, e); },
          [&](Type t) {
            return ConcatOp::create(builder, loc, t, inputs, keyAttr, 1)
                .getOperation();
          });
    }
    case ModuleKind::Upsample: {
      if (!a.isNone("size") || a.isNone("scale_factor") ||
          a.string("mode") != "nearest" || !a.isNone("align_corners") ||
          !a.isNone("recompute_scale_factor"))
        throw FrontendError(model.path, layer.loc,
                            "nn.Upsample is supported as [None, <integer "
                            "scale>, 'nearest']");
      int64_t scale = a.integer("scale_factor");
      if (scale < 1)
        throw FrontendError(model.path, a.get("scale_factor").loc,
                            "nn.Upsample scale_factor must be >= 1");
      return build(
          loc,
          [&](EmitErrorFn e) {
            return inferUpsampleShape(shapeOf(x), scale, e);
          },
          [&](Type t) {
            return UpsampleOp::create(builder, loc, t, x, keyAttr, scale)
                .getOperation();
          });
    }
    case ModuleKind::C2f:
    case ModuleKind::C2fIRMB: {
      int64_t hidden = hiddenWidth(c2, a.real("e"), layer);
      MMBConfigAttr block;
      if (layer.kind == ModuleKind::C2fIRMB)
        block = defaultIRMB(loc);
      return build(loc, same, [&](Type t) {
        return C2fOp::create(builder, loc, t, x, keyAttr, a.integer("n"),
                             a.boolean("shortcut"), hidden, a.integer("g"),
                             block)
            .getOperation();
      });
    }
    case ModuleKind::C3k2: {
      int64_t hidden = hiddenWidth(c2, a.real("e"), layer);
      return build(loc, same, [&](Type t) {
        return C3k2Op::create(builder, loc, t, x, keyAttr, a.integer("n"),
                              a.boolean("c3k"), a.boolean("shortcut"), hidden,
                              a.integer("g"))
            .getOperation();
      });
    }
    case ModuleKind::C2fCIB: {
      int64_t hidden = hiddenWidth(c2, a.real("e"), layer);
      a.integer("g"); // accepted, unused by CIB (as in Ultralytics)
      return build(loc, same, [&](Type t) {
        return C2fCIBOp::create(builder, loc, t, x, keyAttr, a.integer("n"),
                                a.boolean("shortcut"), a.boolean("lk"), hidden)
            .getOperation();
      });
    }
    case ModuleKind::SCDown: {
      int64_t k = a.integer("k"), s = a.integer("s");
      if (k < 1 || s < 1)
        throw FrontendError(model.path, layer.loc, "SCDown needs k, s >= 1");
      return build(
          loc,
          [&](EmitErrorFn e) {
            return inferConvShape(shapeOf(x), c2, k, s, autopad(k, 1), 1, e);
          },
          [&](Type t) {
            return SCDownOp::create(builder, loc, t, x, keyAttr, k, s)
                .getOperation();
          });
    }
    case ModuleKind::SPPF:
      return build(loc, same, [&](Type t) {
        return SPPFOp::create(builder, loc, t, x, keyAttr, a.integer("k"))
            .getOperation();
      });
    case ModuleKind::PSA:
    case ModuleKind::C2PSA: {
      int64_t c1 = a.integer("c1");
      int64_t hidden = hiddenWidth(c1, a.real("e"), layer);
      int64_t heads = hidden / 64;
      if (heads < 1)
        throw FrontendError(model.path, layer.loc,
                            layer.moduleName + " attention width " +
                                std::to_string(hidden) +
                                " is below 64, which gives zero heads "
                                "(num_heads = width // 64)");
      return build(loc, same, [&](Type t) {
        if (layer.kind == ModuleKind::PSA)
          return PSAOp::create(builder, loc, t, x, keyAttr, hidden, heads)
              .getOperation();
        return C2PSAOp::create(builder, loc, t, x, keyAttr, a.integer("n"),
                               hidden, heads)
            .getOperation();
      });
    }
    case ModuleKind::IRMB:
    case ModuleKind::IEMA: {
      MMBConfigAttr config = layer.kind == ModuleKind::IRMB
                                 ? irmbConfig(a, loc)
                                 : iemaConfig(a, loc);
      if (!config)
        return nullptr;
      return build(
          loc,
          [&](EmitErrorFn e) {
            return inferMMBShape(shapeOf(x), c2, config, e);
          },
          [&](Type t) {
            return MMBOp::create(builder, loc, t, x, keyAttr, config)
                .getOperation();
          });
    }
    case ModuleKind::Detect:
    case ModuleKind::V10Detect:
      return buildHead(layer, loc, keyAttr, inputs);
    }
    return nullptr;
  }

  /// int(c · e), the hidden width of CSP / PSA blocks.
  int64_t hiddenWidth(int64_t c, double e, const ResolvedLayer &layer) {
    int64_t hidden = static_cast<int64_t>(static_cast<double>(c) * e);
    if (hidden < 1)
      throw FrontendError(model.path, layer.loc,
                          layer.moduleName + " expansion " +
                              PyValue::real(e).repr() + " of width " +
                              std::to_string(c) + " leaves no channels");
    return hidden;
  }

  /// The iRMB that the seed's C2f_iRMB bottleneck builds: iRMB(c, c).
  MMBConfigAttr defaultIRMB(Location loc) {
    return MMBConfigAttr::get(&ctx, llvm::APFloat(1.0),
                              OperatorF::window_attention, int64_t{7},
                              int64_t{8}, false, int64_t{0}, llvm::APFloat(0.0),
                              int64_t{3}, int64_t{1}, int64_t{1},
                              Activation::relu, true, true, true, false, false);
  }

  /// `#irmb.mmb` of an iRMB layer's bound arguments.
  MMBConfigAttr irmbConfig(const BoundArgs &a, Location loc) {
    requireBatchNorm(a);
    a.real("attn_drop");
    a.real("drop");
    a.real("drop_path");
    bool attention = a.boolean("attn_s");
    int64_t window = std::max<int64_t>(a.integer("window_size"), 0);
    return MMBConfigAttr::getChecked(
        [&] { return prefixedError(loc, "iRMB: "); }, &ctx,
        llvm::APFloat(a.real("exp_ratio")),
        attention ? OperatorF::window_attention : OperatorF::dwconv,
        attention ? window : 0, attention ? a.integer("dim_head") : 0,
        attention && a.boolean("attn_pre"), int64_t{0},
        llvm::APFloat(a.real("se_ratio")), a.integer("dw_ks"),
        a.integer("stride"), a.integer("dilation"),
        activationByName(a, "act_layer"), a.boolean("norm_in"),
        a.boolean("has_skip"), attention || a.boolean("v_proj"),
        a.boolean("qkv_bias"), attention && a.boolean("v_group"));
  }

  /// `#irmb.mmb` of an iEMA layer (EMA with the hard-wired factor 32).
  MMBConfigAttr iemaConfig(const BoundArgs &a, Location loc) {
    requireBatchNorm(a);
    a.real("drop");
    a.real("drop_path");
    bool attention = a.boolean("attn_s");
    return MMBConfigAttr::getChecked(
        [&] { return prefixedError(loc, "iEMA: "); }, &ctx,
        llvm::APFloat(a.real("exp_ratio")),
        attention ? OperatorF::ema : OperatorF::dwconv, int64_t{0}, int64_t{0},
        false, attention ? int64_t{32} : int64_t{0},
        llvm::APFloat(a.real("se_ratio")), a.integer("dw_ks"),
        a.integer("stride"), a.integer("dilation"),
        activationByName(a, "act_layer"), a.boolean("norm_in"),
        a.boolean("has_skip"), !attention && a.boolean("v_proj"),
        !attention && a.boolean("qkv_bias"), false);
  }

  Operation *buildHead(const ResolvedLayer &layer, Location loc,
                       StringAttr keyAttr, ArrayRef<Value> inputs) {
    const BoundArgs &a = layer.bound;
    int64_t nc = a.integer("nc");
    if (nc < 1)
      throw FrontendError(model.path, a.get("nc").loc,
                          layer.moduleName + " nc must be >= 1");
    SmallVector<int64_t> strides;
    SmallVector<ArrayRef<int64_t>> shapes;
    for (Value v : inputs) {
      int64_t h = shapeOf(v)[2];
      if (options.height % h != 0 || options.width % shapeOf(v)[3] != 0 ||
          options.height / h != options.width / shapeOf(v)[3])
        throw FrontendError(model.path, layer.loc,
                            layer.moduleName + " input level of " +
                                std::to_string(h) + "x" +
                                std::to_string(shapeOf(v)[3]) +
                                " is not an integer stride of the input");
      strides.push_back(options.height / h);
      shapes.push_back(shapeOf(v));
    }
    return build(
        loc, [&](EmitErrorFn e) { return inferDetectShape(shapes, nc, e); },
        [&](Type t) -> Operation * {
          if (layer.kind == ModuleKind::V10Detect)
            return V10DetectOp::create(builder, loc, t, inputs, keyAttr, nc, 16,
                                       strides)
                .getOperation();
          ClsHead head = model.hasC3k2 ? ClsHead::depthwise : ClsHead::legacy;
          return DetectOp::create(builder, loc, t, inputs, keyAttr, nc, 16,
                                  strides, head)
              .getOperation();
        });
  }

  MLIRContext &ctx;
  const ResolvedModel &model;
  const ImportOptions &options;
  OpBuilder builder;
  Value input;
  std::vector<Value> outputs;
};

} // namespace

namespace irmb::frontend {
OwningOpRef<ModuleOp> importModel(MLIRContext &context,
                                  const ResolvedModel &model,
                                  const ImportOptions &options,
                                  LayerOps *layerOps) {
  context.getOrLoadDialect<IRMBDialect>();
  context.getOrLoadDialect<func::FuncDialect>();
  return Importer(context, model, options).run(layerOps);
}
} // namespace irmb::frontend
