//===- TorchCheckpoint.cpp - an Ultralytics best.pt as irmb needs it ------===//
//
// Three steps: unpickle data.pkl (inert values), walk the chosen module into
// state_dict keys, then read each tensor's storage member with its offset
// and strides. The model YAML is written back as YAML text (quoted strings,
// YAML 1.1 floats) so the frontend reads it exactly as it reads a file, and
// its errors name `<file>.pt:model.yaml:<line>`.
//
//===----------------------------------------------------------------------===//
#include "weights/TorchCheckpoint.h"

#include "weights/Unpickler.h"
#include "weights/ZipArchive.h"
#include "dialects/IRMB/IR/NumberFormat.h"
#include <cmath>
#include <cstring>
#include <set>

using namespace irmb::weights;
using Kind = PickleValue::Kind;

namespace {

/// Deepest module nesting accepted (Ultralytics models are ~6 deep).
constexpr int kMaxModuleDepth = 64;
/// Deepest YAML value nesting accepted (rows are 3 deep).
constexpr int kMaxYamlDepth = 16;
/// Most dimensions of a tensor (checkpoint tensors have at most 4).
constexpr size_t kMaxRank = 16;
/// Most module visits and tensors of one walk (a memo-shared module graph
/// could otherwise make the walk exponential; Ultralytics models have
/// ~600 modules and tensors).
constexpr uint64_t kMaxModuleVisits = 1 << 16, kMaxTensors = 1 << 18;
/// Largest model.yaml written back (real ones are 1-3 KB).
constexpr size_t kMaxYamlBytes = 1 << 20;

const char *kindName(Kind kind) {
  switch (kind) {
  case Kind::None: return "None";
  case Kind::Bool: return "bool";
  case Kind::Int: return "int";
  case Kind::Float: return "float";
  case Kind::Str: return "str";
  case Kind::Bytes: return "bytes";
  case Kind::Tuple: return "tuple";
  case Kind::List: return "list";
  case Kind::Set: return "set";
  case Kind::Dict: return "dict";
  case Kind::Global: return "global";
  case Kind::Object: return "object";
  case Kind::Storage: return "storage";
  case Kind::Tensor: return "tensor";
  }
  return "value";
}

std::string describe(const PickleValue *v) {
  if (v->kind == Kind::Object || v->kind == Kind::Global)
    return std::string(kindName(v->kind)) + " " + v->qualifiedName();
  return kindName(v->kind);
}

class Reader {
public:
  Reader(const std::string &path, ZipArchive archive)
      : path(path), zip(std::move(archive)), elementBudget(zip.fileSize()) {}

  TorchCheckpoint read() {
    if (!zip.contains("data.pkl"))
      throw CheckpointError(path, "not a PyTorch checkpoint: the zip archive "
                                  "has no '" + zip.prefix() + "/data.pkl'");
    if (zip.contains("byteorder")) {
      std::string_view order = zip.read("byteorder");
      if (order != "little")
        throw CheckpointError(path, "storages are '" + std::string(order) +
                                        "'-endian; only little-endian "
                                        "checkpoints are read");
    }
    Pickle pickle = unpickle(zip.read("data.pkl"), path, "data.pkl");
    TorchCheckpoint out;
    const PickleValue *root = pickle.root;
    const PickleValue *module = nullptr;
    if (root->kind == Kind::Dict &&
        (root->get("model") != nullptr || root->get("ema") != nullptr)) {
      const PickleValue *ema = root->get("ema");
      bool useEma = ema && !ema->isNone();
      module = useEma ? ema : root->get("model");
      out.source = useEma ? "ema" : "model";
      if (!module || module->isNone())
        throw CheckpointError(path, "the checkpoint's 'model' and 'ema' are "
                                    "both None");
      if (const PickleValue *v = root->get("version"); v && v->kind == Kind::Str)
        out.ultralyticsVersion = v->text;
      if (module->kind == Kind::Dict) { // a state_dict stored as `model`
        stateDict(module, out);
        return out;
      }
    } else if (root->kind == Kind::Dict) {
      out.source = "state_dict";
      stateDict(root, out);
      return out;
    } else if (root->kind == Kind::Object) {
      module = root;
      out.source = "module";
    } else {
      throw CheckpointError(path, "not an Ultralytics checkpoint: data.pkl "
                                  "holds a " + describe(root) +
                                  ", not a dict or a module");
    }
    if (module->kind != Kind::Object)
      throw CheckpointError(path, "checkpoint '" + out.source + "' is a " +
                                      describe(module) + ", not a module");
    walk(module, "", 0, out);
    if (out.tensors.empty())
      throw CheckpointError(path, "checkpoint '" + out.source +
                                      "' holds no parameters or buffers");
    modelAttributes(module, out);
    return out;
  }

private:
  [[noreturn]] void fail(const std::string &what) const {
    throw CheckpointError(path, what);
  }

  // ---- tensors -------------------------------------------------------------
  void stateDict(const PickleValue *dict, TorchCheckpoint &out) {
    for (const auto &[k, v] : dict->entries) {
      if (k->kind != Kind::Str)
        fail("state_dict key of type " + std::string(kindName(k->kind)));
      if (v->kind != Kind::Tensor)
        fail("state_dict entry '" + k->text + "' is a " + describe(v) +
             ", not a tensor");
      out.tensors[k->text] = tensor(k->text, v);
    }
    if (out.tensors.empty())
      fail("the state_dict is empty");
  }

  /// Adds `_parameters` and persistent `_buffers` of `m`, then recurses into
  /// `_modules`, with keys joined by '.' as Module.state_dict does.
  void walk(const PickleValue *m, const std::string &prefix, int depth,
            TorchCheckpoint &out) {
    std::string shown = prefix.size() > 64
                            ? prefix.substr(0, 30) + "..." +
                                  prefix.substr(prefix.size() - 30)
                            : prefix;
    std::string where = prefix.empty() ? "the model" : "'" + shown + "'";
    if (depth > kMaxModuleDepth)
      fail("modules nested deeper than " + std::to_string(kMaxModuleDepth) +
           " at " + where);
    if (++moduleVisits > kMaxModuleVisits)
      fail("more than " + std::to_string(kMaxModuleVisits) +
           " modules (a module graph shared that often is not a model)");
    if (m->kind != Kind::Object)
      fail(where + " is a " + describe(m) + ", not a module");
    const PickleValue *modules = m->get("_modules");
    const PickleValue *params = m->get("_parameters");
    const PickleValue *buffers = m->get("_buffers");
    if (!modules || !params || !buffers)
      fail(where + " (" + m->qualifiedName() +
           ") has no _modules / _parameters / _buffers: not a torch module");
    std::set<std::string> skipped;
    if (const PickleValue *skip = m->get("_non_persistent_buffers_set");
        skip && skip->kind == Kind::Set)
      for (const PickleValue *s : skip->items)
        if (s->kind == Kind::Str)
          skipped.insert(s->text);
    auto isSkipped = [&](const std::string &name) {
      return skipped.count(name) != 0;
    };
    auto entries = [&](const PickleValue *dict, const char *what) {
      if (dict->kind != Kind::Dict)
        fail(where + "." + what + " is a " + describe(dict) + ", not a dict");
      return dict->entries;
    };
    for (const char *field : {"_parameters", "_buffers"}) {
      const PickleValue *dict = field[1] == 'p' ? params : buffers;
      for (const auto &[k, v] : entries(dict, field)) {
        if (k->kind != Kind::Str)
          fail(where + "." + field + " has a key of type " + kindName(k->kind));
        if (v->isNone() || (dict == buffers && isSkipped(k->text)))
          continue;
        std::string key = prefix + k->text;
        if (v->kind != Kind::Tensor)
          fail("'" + key + "' is a " + describe(v) + ", not a tensor");
        out.tensors[key] = tensor(key, v);
      }
    }
    for (const auto &[k, v] : entries(modules, "_modules")) {
      if (k->kind != Kind::Str)
        fail(where + "._modules has a key of type " +
             std::string(kindName(k->kind)));
      if (!v->isNone())
        walk(v, prefix + k->text + ".", depth + 1, out);
    }
  }

  /// The dtype name and element size of a typed storage class.
  static bool storageType(const std::string &cls, std::string &dtype,
                          size_t &bytes) {
    static const struct {
      const char *cls, *dtype;
      size_t bytes;
    } kTypes[] = {{"HalfStorage", "F16", 2},   {"BFloat16Storage", "BF16", 2},
                  {"FloatStorage", "F32", 4},  {"DoubleStorage", "F64", 8},
                  {"LongStorage", "I64", 8},   {"IntStorage", "I32", 4},
                  {"ShortStorage", "I16", 2},  {"CharStorage", "I8", 1},
                  {"ByteStorage", "U8", 1},    {"BoolStorage", "BOOL", 1}};
    for (const auto &t : kTypes)
      if (cls == t.cls) {
        dtype = t.dtype;
        bytes = t.bytes;
        return true;
      }
    return false;
  }

  CheckpointTensor tensor(const std::string &key, const PickleValue *t) {
    if (++tensorsRead > kMaxTensors)
      fail("more than " + std::to_string(kMaxTensors) + " tensors");
    const PickleValue *s = t->storage;
    std::string dtype;
    size_t elementBytes = 0;
    if (!storageType(s->name, dtype, elementBytes))
      fail("tensor '" + key + "' has storage type '" + s->qualifiedName() +
           "', which irmb does not read");
    std::string memberName = "data/" + s->text;
    uint64_t memberSize = zip.size(memberName);
    if (s->integer < 0 ||
        static_cast<uint64_t>(s->integer) > memberSize / elementBytes)
      fail("tensor '" + key + "': storage " + s->text + " claims " +
           std::to_string(s->integer) + " elements of " +
           std::to_string(elementBytes) + " bytes but its zip member '" +
           memberName + "' has " + std::to_string(memberSize) + " bytes");
    // Bounds: every element the view can touch lies inside the storage,
    // with every product and sum checked for overflow.
    const uint64_t storageNumel = static_cast<uint64_t>(s->integer);
    if (t->sizes.size() > kMaxRank)
      fail("tensor '" + key + "' has " + std::to_string(t->sizes.size()) +
           " dimensions (at most " + std::to_string(kMaxRank) + ")");
    if (t->storageOffset < 0 ||
        static_cast<uint64_t>(t->storageOffset) > storageNumel)
      fail("tensor '" + key + "' has storage offset " +
           std::to_string(t->storageOffset) + " outside storage " + s->text +
           " of " + std::to_string(storageNumel) + " elements");
    uint64_t numel = 1, last = static_cast<uint64_t>(t->storageOffset);
    bool overflow = false;
    for (size_t d = 0; d < t->sizes.size(); ++d) {
      int64_t size = t->sizes[d], stride = t->strides[d];
      if (size < 0 || stride < 0)
        fail("tensor '" + key + "' has size " + std::to_string(size) +
             " / stride " + std::to_string(stride) + " in dimension " +
             std::to_string(d));
      uint64_t reach = 0;
      overflow |= __builtin_mul_overflow(numel, static_cast<uint64_t>(size),
                                         &numel);
      if (size > 0) {
        overflow |= __builtin_mul_overflow(static_cast<uint64_t>(size - 1),
                                           static_cast<uint64_t>(stride),
                                           &reach);
        overflow |= __builtin_add_overflow(last, reach, &last);
      }
    }
    if (numel > 0 && (overflow || last >= storageNumel))
      fail("tensor '" + key + "' reaches " +
           (overflow ? std::string("past 2^64") :
                     "element " + std::to_string(last)) +
           " of storage " + s->text + ", which has " +
           std::to_string(storageNumel) + " (offset or stride past the "
                                          "storage)");
    // A view never has more elements than its storage in a checkpoint (no
    // stride-0 expansion), and all tensors together stay within a budget
    // proportional to the file, so nothing allocates beyond what it holds.
    if (numel > storageNumel)
      fail("tensor '" + key + "' has " + std::to_string(numel) +
           " elements, more than its storage " + s->text + " holds (" +
           std::to_string(storageNumel) + ")");
    elementsRead += numel;
    if (elementsRead > elementBudget)
      fail("the tensors hold more elements than the file's size allows ("
           "storages shared by too many tensors)");
    const char *data = zip.read(memberName).data();

    CheckpointTensor out;
    out.shape = t->sizes;
    out.dtype = dtype;
    bool isFloat = dtype == "F16" || dtype == "BF16" || dtype == "F32" ||
                   dtype == "F64";
    out.isInt64 = dtype == "I64";
    if (!isFloat && !out.isInt64)
      fail("tensor '" + key + "' is " + dtype +
           "; irmb reads float and int64 tensors");
    if (out.isInt64)
      return out; // counters (num_batches_tracked): the value is not used
    out.values.resize(numel);
    // Walk the strided view in row-major order.
    std::vector<uint64_t> index(t->sizes.size(), 0);
    for (uint64_t i = 0; i < numel; ++i) {
      // In bounds and overflow-free: checked above for the largest index.
      uint64_t at = static_cast<uint64_t>(t->storageOffset);
      for (size_t d = 0; d < index.size(); ++d)
        at += index[d] * static_cast<uint64_t>(t->strides[d]);
      const char *p = data + at * elementBytes;
      float v;
      if (dtype == "F32") {
        std::memcpy(&v, p, 4);
      } else if (dtype == "F64") {
        double x;
        std::memcpy(&x, p, 8);
        v = static_cast<float>(x);
      } else {
        uint16_t bits;
        std::memcpy(&bits, p, 2);
        v = dtype == "F16" ? halfToFloat(bits) : bfloat16ToFloat(bits);
      }
      out.values[i] = v;
      for (size_t d = index.size(); d-- > 0;) {
        if (++index[d] < static_cast<uint64_t>(t->sizes[d]))
          break;
        index[d] = 0;
      }
    }
    return out;
  }

  // ---- model attributes ----------------------------------------------------
  void modelAttributes(const PickleValue *module, TorchCheckpoint &out) {
    if (const PickleValue *yaml = module->get("yaml");
        yaml && yaml->kind == Kind::Dict) {
      if (const PickleValue *s = yaml->get("scale"); s && s->kind == Kind::Str)
        out.scale = s->text;
      out.modelYaml = yamlText(yaml);
    }
    if (const PickleValue *names = module->get("names"))
      out.classNames = classNames(names);
    if (const PickleValue *args = module->get("args")) {
      const PickleValue *imgsz = args->get("imgsz");
      if (imgsz && imgsz->kind == Kind::Int && imgsz->integer > 0) {
        out.imageHeight = out.imageWidth = imgsz->integer;
      } else if (imgsz &&
                 (imgsz->kind == Kind::List || imgsz->kind == Kind::Tuple) &&
                 imgsz->items.size() == 2 &&
                 imgsz->items[0]->kind == Kind::Int &&
                 imgsz->items[1]->kind == Kind::Int &&
                 imgsz->items[0]->integer > 0 && imgsz->items[1]->integer > 0) {
        out.imageHeight = imgsz->items[0]->integer;
        out.imageWidth = imgsz->items[1]->integer;
      }
    }
  }

  std::vector<std::string> classNames(const PickleValue *names) {
    std::vector<std::string> out;
    if (names->kind == Kind::List || names->kind == Kind::Tuple) {
      for (const PickleValue *n : names->items) {
        if (n->kind != Kind::Str)
          fail("model.names holds a " + describe(n) + ", not a class name");
        out.push_back(n->text);
      }
      return out;
    }
    if (names->kind != Kind::Dict)
      fail("model.names is a " + describe(names) + ", not a dict or list");
    out.resize(names->entries.size());
    std::vector<bool> seen(out.size(), false);
    for (const auto &[k, v] : names->entries) {
      if (k->kind != Kind::Int || k->integer < 0 ||
          k->integer >= static_cast<int64_t>(out.size()) || seen[k->integer] ||
          v->kind != Kind::Str)
        fail("model.names is not {0: name, 1: name, ...} with indices 0.." +
             std::to_string(out.size() - 1));
      seen[k->integer] = true;
      out[k->integer] = v->text;
    }
    return out;
  }

  // ---- model.yaml as YAML text ---------------------------------------------
  static std::string quote(const std::string &s) {
    bool plain = true;
    for (unsigned char c : s)
      plain &= c >= 0x20 && c != 0x7f;
    if (plain) {
      std::string out = "'";
      for (char c : s)
        out += c == '\'' ? std::string("''") : std::string(1, c);
      return out + "'";
    }
    std::string out = "\"";
    for (unsigned char c : s) {
      static const char hex[] = "0123456789abcdef";
      if (c == '"' || c == '\\')
        out += {'\\', static_cast<char>(c)};
      else if (c < 0x20 || c == 0x7f)
        out += {'\\', 'x', hex[c >> 4], hex[c & 15]};
      else
        out += static_cast<char>(c);
    }
    return out + "\"";
  }

  /// A float as a YAML 1.1 float scalar (PyYAML needs a '.' and a signed
  /// exponent), with the shortest digits that round-trip.
  static std::string yamlFloat(double x) {
    if (std::isnan(x))
      return ".nan";
    if (std::isinf(x))
      return x > 0 ? ".inf" : "-.inf";
    // Python's repr digits; %g exponents are signed already.
    std::string s = irmb::formatShortestDouble(x);
    size_t e = s.find('e');
    if (e != std::string::npos && s.find('.') == std::string::npos)
      s.insert(e, ".0");
    return s;
  }

  std::string yamlValue(const PickleValue *v, const std::string &key,
                        int depth) {
    if (depth > kMaxYamlDepth)
      fail("model.yaml['" + key + "'] is nested deeper than " +
           std::to_string(kMaxYamlDepth));
    // Every value costs at least its separator: a memo-shared list repeated
    // inside itself cannot blow the text up.
    yamlBytes += 2 + (v->kind == Kind::Str ? v->text.size() : 0);
    if (yamlBytes > kMaxYamlBytes)
      fail("model.yaml is larger than " + std::to_string(kMaxYamlBytes >> 20) +
           " MiB written out (not a model YAML)");
    switch (v->kind) {
    case Kind::None:
      return "null";
    case Kind::Bool:
      return v->integer ? "true" : "false";
    case Kind::Int:
      return std::to_string(v->integer);
    case Kind::Float:
      return yamlFloat(v->real);
    case Kind::Str:
      return quote(v->text);
    case Kind::List:
    case Kind::Tuple: {
      std::string s = "[";
      for (size_t i = 0; i < v->items.size(); ++i)
        s += (i ? ", " : "") + yamlValue(v->items[i], key, depth + 1);
      return s + "]";
    }
    case Kind::Dict: {
      std::string s = "{";
      for (size_t i = 0; i < v->entries.size(); ++i)
        s += (i ? ", " : "") + yamlValue(v->entries[i].first, key, depth + 1) +
             ": " + yamlValue(v->entries[i].second, key, depth + 1);
      return s + "}";
    }
    default:
      fail("model.yaml['" + key + "'] holds a " + describe(v) +
           ", which a model YAML cannot hold");
    }
  }

  std::string yamlText(const PickleValue *yaml) {
    std::string text = "# model.yaml stored in " + path + "\n";
    for (const auto &[k, v] : yaml->entries) {
      if (k->kind != Kind::Str)
        fail("model.yaml has a key of type " + std::string(kindName(k->kind)));
      if ((k->text == "backbone" || k->text == "head") &&
          (v->kind == Kind::List || v->kind == Kind::Tuple)) {
        text += quote(k->text) + ":\n";
        for (const PickleValue *row : v->items)
          text += "  - " + yamlValue(row, k->text, 1) + "\n";
        continue;
      }
      text += quote(k->text) + ": " + yamlValue(v, k->text, 0) + "\n";
    }
    return text;
  }

  std::string path;
  ZipArchive zip;
  uint64_t elementBudget;     ///< tensor elements allowed: the file's bytes
  uint64_t elementsRead = 0;  ///< tensor elements converted so far
  uint64_t moduleVisits = 0, tensorsRead = 0;
  size_t yamlBytes = 0;       ///< model.yaml text written so far
};

} // namespace

TorchCheckpoint irmb::weights::readTorchCheckpoint(const std::string &path) {
  return Reader(path, ZipArchive::open(path)).read();
}

TorchCheckpoint irmb::weights::parseTorchCheckpoint(std::string bytes,
                                                    const std::string &path) {
  return Reader(path, ZipArchive::fromBytes(std::move(bytes), path)).read();
}

Checkpoint irmb::weights::readCheckpointTensors(const std::string &path) {
  if (ZipArchive::looksLikeZip(path))
    return readTorchCheckpoint(path).tensors;
  return readSafeTensors(path);
}
