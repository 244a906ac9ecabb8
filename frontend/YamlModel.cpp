//===- YamlModel.cpp - read an Ultralytics model YAML ---------------------===//
//
// yaml-cpp based reader of model files. Quoted scalars stay strings, plain
// ones are resolved as PyYAML resolves them (YAML 1.1), so `None`, `True` and
// `0.25` arrive as Python would see them. Every structural problem (not a
// mapping, a row that is not a 4-list, a non-integer `from` ...) is reported
// with the line and column of the offending node.
//
//===----------------------------------------------------------------------===//
#include "frontend/YamlModel.h"

#include <fstream>
#include <sstream>
#include <yaml-cpp/yaml.h>

using namespace irmb::frontend;

FrontendError::FrontendError(const std::string &path, SourceLoc loc,
                             const std::string &message)
    : std::runtime_error(loc.line > 0
                             ? path + ":" + std::to_string(loc.line) + ":" +
                                   std::to_string(loc.column) + ": " + message
                             : path + ": " + message),
      path(path), loc(loc), message(message) {}

namespace {

/// Converts yaml-cpp's 0-based mark to a 1-based SourceLoc.
SourceLoc locOf(const YAML::Node &node) {
  YAML::Mark m = node.Mark();
  if (m.line < 0)
    return {};
  return {m.line + 1, m.column + 1};
}

/// Reader state: the file path for error messages.
class Reader {
public:
  explicit Reader(std::string path) : path(std::move(path)) {}

  [[noreturn]] void fail(SourceLoc loc, const std::string &msg) const {
    throw FrontendError(path, loc, msg);
  }

  /// A YAML node as a Python value (scalars resolved, lists recursive).
  PyValue value(const YAML::Node &node) const {
    SourceLoc loc = locOf(node);
    if (node.IsNull())
      return PyValue::none(loc);
    if (node.IsScalar()) {
      // yaml-cpp tags quoted scalars "!" and plain ones "?".
      if (node.Tag() == "!")
        return PyValue::str(node.Scalar(), loc);
      return resolvePlainScalar(node.Scalar(), loc);
    }
    if (node.IsSequence()) {
      std::vector<PyValue> items;
      for (const YAML::Node &item : node)
        items.push_back(value(item));
      return PyValue::list(std::move(items), loc);
    }
    fail(loc, "a mapping is not allowed here");
  }

  int64_t integer(const YAML::Node &node, const std::string &what) const {
    PyValue v = value(node);
    if (v.kind != PyValue::Kind::Int)
      fail(v.loc,
           what + " must be an integer, got " + v.typeName() + " " + v.repr());
    return v.intValue;
  }

  double real(const YAML::Node &node, const std::string &what) const {
    PyValue v = value(node);
    if (v.kind == PyValue::Kind::Int)
      return static_cast<double>(v.intValue);
    if (v.kind != PyValue::Kind::Float)
      fail(v.loc,
           what + " must be a number, got " + v.typeName() + " " + v.repr());
    return v.floatValue;
  }

  void scales(const YAML::Node &node, ModelFile &model) const {
    model.scalesLoc = locOf(node);
    if (!node.IsMap())
      fail(locOf(node), "'scales' must be a mapping of letter: [depth, "
                        "width, max_channels]");
    for (const auto &kv : node) {
      ScaleEntry entry;
      entry.name = kv.first.Scalar();
      entry.loc = locOf(kv.first);
      const YAML::Node &v = kv.second;
      if (!v.IsSequence() || v.size() != 3)
        fail(locOf(v),
             "scale '" + entry.name + "' must be [depth, width, max_channels]");
      entry.depth = real(v[0], "depth multiple");
      entry.width = real(v[1], "width multiple");
      entry.maxChannels = integer(v[2], "max_channels");
      if (!(entry.depth > 0 && entry.depth <= kMaxMultiple) ||
          !(entry.width > 0 && entry.width <= kMaxMultiple) ||
          entry.maxChannels <= 0 || entry.maxChannels > kMaxModelChannels)
        fail(locOf(v), "scale '" + entry.name +
                           "' must have depth and width in (0, " +
                           std::to_string(static_cast<int>(kMaxMultiple)) +
                           "] and max_channels in [1, " +
                           std::to_string(kMaxModelChannels) + "]");
      model.scales.push_back(entry);
    }
  }

  LayerRow row(const YAML::Node &node) const {
    LayerRow row;
    row.loc = locOf(node);
    if (!node.IsSequence() || node.size() != 4)
      fail(row.loc, "a layer must be [from, repeats, module, args]");
    const YAML::Node &from = node[0];
    row.fromLoc = locOf(from);
    if (from.IsSequence()) {
      row.fromIsList = true;
      if (from.size() == 0)
        fail(row.fromLoc, "'from' list is empty");
      for (const YAML::Node &f : from)
        row.from.push_back(integer(f, "'from' entry"));
    } else {
      row.from.push_back(integer(from, "'from'"));
    }
    row.repeatsLoc = locOf(node[1]);
    row.repeats = integer(node[1], "repeats");
    row.moduleLoc = locOf(node[2]);
    if (!node[2].IsScalar())
      fail(row.moduleLoc, "module must be a name");
    row.module = node[2].Scalar();
    row.argsLoc = locOf(node[3]);
    if (node[3].IsNull())
      return row;
    if (!node[3].IsSequence())
      fail(row.argsLoc, "args must be a list");
    for (const YAML::Node &a : node[3])
      row.args.push_back(value(a));
    return row;
  }

  void section(const YAML::Node &root, const char *key,
               ModelFile &model) const {
    const YAML::Node node = root[key];
    if (!node)
      fail({1, 1}, std::string("missing '") + key + "' section");
    if (!node.IsSequence())
      fail(locOf(node), std::string("'") + key + "' must be a list of layers");
    for (const YAML::Node &r : node) {
      if (model.layers.size() >= kMaxLayers)
        fail(locOf(r), "more than " + std::to_string(kMaxLayers) +
                           " layers (a model has tens)");
      model.layers.push_back(row(r));
    }
  }

  ModelFile read(const YAML::Node &root) const {
    ModelFile model;
    model.path = path;
    if (!root.IsMap())
      fail(locOf(root), "a model file must be a mapping with backbone and "
                        "head");
    if (const YAML::Node nc = root["nc"]) {
      model.ncLoc = locOf(nc);
      model.nc = integer(nc, "nc");
      if (*model.nc < 1 || *model.nc > kMaxClasses)
        fail(model.ncLoc, "nc must be in [1, " + std::to_string(kMaxClasses) +
                              "], got " + std::to_string(*model.nc));
    }
    if (const YAML::Node s = root["scales"])
      scales(s, model);
    for (const char *key : {"depth_multiple", "width_multiple"})
      if (const YAML::Node d = root[key]) {
        double v = real(d, key);
        if (!(v > 0 && v <= kMaxMultiple))
          fail(locOf(d), std::string(key) + " must be in (0, " +
                             std::to_string(static_cast<int>(kMaxMultiple)) +
                             "], got " + std::to_string(v));
        (key[0] == 'd' ? model.depthMultiple : model.widthMultiple) = v;
      }
    if (const YAML::Node ch = root["ch"]) {
      model.inputChannels = integer(ch, "ch");
      if (model.inputChannels < 1)
        fail(locOf(ch), "ch must be >= 1");
      if (model.inputChannels > kMaxInputChannels)
        fail(locOf(ch), "ch " + std::to_string(model.inputChannels) +
                            " is more than " +
                            std::to_string(kMaxInputChannels) +
                            " input channels");
    }
    if (const YAML::Node act = root["activation"]) {
      model.activation = act.Scalar();
      model.activationLoc = locOf(act);
    }
    section(root, "backbone", model);
    section(root, "head", model);
    return model;
  }

private:
  std::string path;
};

} // namespace

ModelFile irmb::frontend::readModelFile(const std::string &path) {
  std::ifstream in(path);
  if (!in)
    throw FrontendError(path, {}, "cannot open the model file");
  std::stringstream text;
  text << in.rdbuf();
  if (text.str().size() > kMaxModelFileBytes)
    throw FrontendError(path, {},
                        "the file is " + std::to_string(text.str().size()) +
                            " bytes; a model YAML is a few KB (at most " +
                            std::to_string(kMaxModelFileBytes >> 20) + " MiB)");
  return readModelText(text.str(), path);
}

ModelFile irmb::frontend::readModelText(const std::string &text,
                                        const std::string &path) {
  if (text.size() > kMaxModelFileBytes)
    throw FrontendError(path, {}, "the model YAML is larger than 1 MiB");
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception &e) {
    SourceLoc loc{e.mark.line + 1, e.mark.column + 1};
    throw FrontendError(path, loc, "malformed YAML: " + e.msg);
  }
  try {
    return Reader(path).read(root);
  } catch (const YAML::Exception &e) {
    SourceLoc loc{e.mark.line + 1, e.mark.column + 1};
    throw FrontendError(path, loc, "unexpected YAML structure: " + e.msg);
  }
}
