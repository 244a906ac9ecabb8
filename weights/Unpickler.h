//===- Unpickler.h - a pickle reader that never runs the pickle -*- C++ -*-===//
//
// A pickle is a program for Python's stack machine: GLOBAL names a Python
// object, REDUCE calls it. Unpickler interprets the opcodes PyTorch
// checkpoints use (protocol 2, plus the protocol 4/5 ones torch 2.x writes)
// into a tree of inert PickleValues and calls nothing. Only the globals a
// checkpoint needs get meaning: tensor rebuilding (`_rebuild_tensor_v2`,
// `_rebuild_parameter`, the typed `*Storage`s through persistent ids),
// containers (`OrderedDict`, `set`, `torch.Size`), `_codecs.encode` and
// dill's `_load_type`. Every other class becomes a placeholder object that
// keeps its BUILD state; globals whose only use is running code (`os`,
// `posix`, `subprocess`, `builtins.eval`, ...) are refused outright.
// Values live in an arena owned by the result, so memo sharing and even
// cycles are plain pointers, and destruction never recurses.
//
//===----------------------------------------------------------------------===//
#ifndef IRMB_WEIGHTS_UNPICKLER_H
#define IRMB_WEIGHTS_UNPICKLER_H

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace irmb::weights {

/// One value of an unpickled object graph. Children are pointers into the
/// arena of the Pickle that owns every value.
struct PickleValue {
  enum class Kind {
    None,
    Bool,
    Int,
    Float,
    Str,
    Bytes,
    Tuple,
    List,
    Set,
    Dict,
    Global,  ///< a named Python object, never resolved (`module`, `name`)
    Object,  ///< an instance of a class we give no meaning (`module.name`)
    Storage, ///< a persistent-id storage: `name` = dtype class, `text` = key
    Tensor,  ///< a strided view of a Storage
  };
  Kind kind = Kind::None;
  int64_t integer = 0; ///< Int, Bool; Storage: element count
  double real = 0.0;
  std::string text;   ///< Str, Bytes; Storage: the archive key
  std::string module; ///< Global, Object: where the class lives
  std::string name;   ///< Global, Object: class name; Storage: `HalfStorage`
  std::vector<PickleValue *> items; ///< Tuple, List, Set; Object: ctor args
  std::vector<std::pair<PickleValue *, PickleValue *>> entries; ///< Dict;
                                      ///< Object: attributes after BUILD
  PickleValue *storage = nullptr;     ///< Tensor
  int64_t storageOffset = 0;          ///< Tensor, in elements
  std::vector<int64_t> sizes, strides; ///< Tensor
  uint64_t offset = 0; ///< position in the pickle where it was made

  /// A Dict entry or an Object attribute with the string key `key`, else
  /// null.
  const PickleValue *get(std::string_view key) const;
  /// True for None.
  bool isNone() const { return kind == Kind::None; }
  /// `module.name` of a Global or Object.
  std::string qualifiedName() const { return module + "." + name; }
};

/// The result of unpickling: the arena and the root value.
struct Pickle {
  std::vector<std::unique_ptr<PickleValue>> arena;
  PickleValue *root = nullptr;
};

/// Limits that bound the work and memory a hostile pickle can ask for.
struct PickleLimits {
  uint64_t maxValues = uint64_t(1) << 21; ///< values created (~250 B each)
  uint64_t maxStack = uint64_t(1) << 20;  ///< stack + mark depth
  uint64_t maxMemo = uint64_t(1) << 23;   ///< memo slots
  /// Container elements stored or copied in total (APPEND, SETITEM, and
  /// the copies list(x), torch.Size(x), BUILD ... make): bounds the memory
  /// a small pickle of memo references can multiply into.
  uint64_t maxItems = uint64_t(1) << 24;
};

/// Interprets `bytes` (`where` names them in messages, e.g.
/// `best.pt: data.pkl`). Throws CheckpointError with the pickle offset of the
/// failing opcode.
Pickle unpickle(std::string_view bytes, const std::string &path,
                const std::string &member, const PickleLimits &limits = {});

/// True when a real unpickler resolving `module.name` could run code with
/// it (os.system, builtins.eval, subprocess.Popen, ...). Such globals are
/// refused wherever they appear.
bool isCodeRunningGlobal(std::string_view module, std::string_view name);

} // namespace irmb::weights

#endif // IRMB_WEIGHTS_UNPICKLER_H
