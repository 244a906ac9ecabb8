//===- IrmbModule.cpp - the `irmb._irmb` extension: the C APIs in Python --===//
//
// A thin pybind11 layer over irmb.h and irmb_vision.h: `_Model` loads a
// compiled .so, describes it, runs raw float32 arrays and predicts on image
// files or BGR uint8 arrays. The Python package (irmb/__init__.py) builds
// Ultralytics-like Results objects on top. Calls on one model are
// serialised by a mutex and run without the GIL. Errors become ValueError
// (bad arguments) or RuntimeError (what the runtime says); the package
// raises FileNotFoundError for missing files before calling in.
//
//===----------------------------------------------------------------------===//
#include "irmb/irmb.h"
#include "irmb/irmb_vision.h"

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <mutex>
#include <string>
#include <vector>

namespace py = pybind11;

namespace {

std::string shapeText(const int64_t *s, int n) {
  std::string t = "(";
  for (int i = 0; i < n; ++i)
    t += (i ? ", " : "") + std::to_string(s[i]);
  return t + (n == 1 ? ",)" : ")");
}

/// One image's detections: (orig_height, orig_width, rows [n, 6]).
using Prediction = py::tuple;

class Model {
public:
  Model(const std::string &path, std::optional<int> threads) {
    if (threads && *threads < 1)
      throw py::value_error("threads must be >= 1");
    model = irmb_create(path.c_str());
    if (!model)
      throw std::runtime_error(irmb_last_error());
    if ((threads && irmb_set_threads(model, *threads) != 0) ||
        irmb_get_info(model, &info) != 0) {
      std::string message = irmb_last_error();
      irmb_destroy(model);
      throw std::runtime_error(message);
    }
  }
  ~Model() { irmb_destroy(model); }
  Model(const Model &) = delete;
  Model &operator=(const Model &) = delete;

  py::dict describe() const {
    py::dict d;
    std::vector<int64_t> in(info.input_shape, info.input_shape + 4),
        out(info.output_shape, info.output_shape + 3);
    d["input_shape"] = py::tuple(py::cast(in));
    d["output_shape"] = py::tuple(py::cast(out));
    d["num_classes"] = info.num_classes;
    py::dict names;
    for (int c = 0; c < info.num_classes; ++c)
      names[py::int_(c)] = irmb_class_name(model, c);
    d["names"] = names;
    d["head"] = info.is_v10 ? "v10Detect" : "Detect";
    d["target"] = info.target;
    d["isa"] = info.isa;
    d["precision"] = info.precision;
    d["source"] = info.source;
    d["threads"] = info.threads;
    d["kernels"] = info.num_kernels;
    d["arena_bytes"] = info.arena_bytes;
    return d;
  }

  py::array_t<float> run(py::array x) {
    if (x.dtype().kind() != 'f' && x.dtype().kind() != 'i' &&
        x.dtype().kind() != 'u')
      throw py::value_error("run() takes a float32 array [B, C, H, W], got "
                            "dtype " +
                            std::string(py::str(x.dtype())));
    auto input = py::array_t<float, py::array::c_style | py::array::forcecast>(x);
    std::vector<int64_t> expected(info.input_shape, info.input_shape + 4);
    std::vector<int64_t> shape(input.shape(), input.shape() + input.ndim());
    if (shape != expected)
      throw py::value_error(
          "input shape " + shapeText(shape.data(), static_cast<int>(shape.size())) +
          " does not match the compiled shape " +
          shapeText(info.input_shape, 4) + " (recompile with --imgsz / --batch)");
    std::vector<py::ssize_t> outShape(info.output_shape, info.output_shape + 3);
    py::array_t<float> out(outShape);
    const float *in = input.data();
    float *o = out.mutable_data();
    int rc;
    {
      py::gil_scoped_release release;
      std::lock_guard<std::mutex> lock(mutex);
      rc = irmb_run(model, in, o);
    }
    if (rc != 0)
      throw std::runtime_error(irmb_last_error());
    return out;
  }

  std::vector<Prediction> predictFiles(const std::vector<std::string> &paths,
                                       float conf, double iou, int maxDet) {
    irmb_predict_options o = options(conf, iou, maxDet);
    std::vector<const char *> ptrs;
    for (const std::string &p : paths)
      ptrs.push_back(p.c_str());
    std::vector<irmb_detections> results(paths.size());
    int rc;
    {
      py::gil_scoped_release release;
      std::lock_guard<std::mutex> lock(mutex);
      rc = irmb_predict_files(model, ptrs.data(),
                              static_cast<int64_t>(ptrs.size()), &o,
                              results.data());
    }
    return collect(rc, results);
  }

  std::vector<Prediction> predictArrays(const std::vector<py::array> &arrays,
                                        float conf, double iou, int maxDet) {
    irmb_predict_options o = options(conf, iou, maxDet);
    std::vector<py::array_t<uint8_t, py::array::c_style>> held;
    std::vector<irmb_image> images;
    for (size_t i = 0; i < arrays.size(); ++i) {
      const py::array &a = arrays[i];
      if (a.dtype().kind() != 'u' || a.itemsize() != 1 || a.ndim() != 3 ||
          a.shape(2) != 3)
        throw py::value_error("image " + std::to_string(i) +
                              ": expected a BGR uint8 array [H, W, 3], got " +
                              std::string(py::str(a.dtype())) + " with " +
                              std::to_string(a.ndim()) + " dimensions");
      held.emplace_back(a);
      const auto &h = held.back();
      images.push_back({h.data(), h.shape(0), h.shape(1), 3 * h.shape(1)});
    }
    std::vector<irmb_detections> results(images.size());
    int rc;
    {
      py::gil_scoped_release release;
      std::lock_guard<std::mutex> lock(mutex);
      rc = irmb_predict_images(model, images.data(),
                               static_cast<int64_t>(images.size()), &o,
                               results.data());
    }
    return collect(rc, results);
  }

private:
  static irmb_predict_options options(float conf, double iou, int maxDet) {
    if (!(conf >= 0 && conf <= 1))
      throw py::value_error("conf must be in [0, 1]");
    if (!(iou >= 0 && iou <= 1))
      throw py::value_error("iou must be in [0, 1]");
    if (maxDet < 1)
      throw py::value_error("max_det must be >= 1");
    return {conf, iou, maxDet};
  }

  /// Frees a call's results however collect() leaves (return or throw).
  struct Freed {
    std::vector<irmb_detections> &results;
    ~Freed() {
      irmb_detections_free(results.data(),
                           static_cast<int64_t>(results.size()));
    }
  };

  std::vector<Prediction> collect(int rc,
                                  std::vector<irmb_detections> &results) {
    Freed freed{results};
    if (rc != 0) {
      std::string message = irmb_last_error();
      if (message.find("cannot read the image") != std::string::npos)
        throw py::value_error(message);
      throw std::runtime_error(message);
    }
    std::vector<Prediction> out;
    for (irmb_detections &r : results) {
      py::array_t<float> rows(
          std::vector<py::ssize_t>{static_cast<py::ssize_t>(r.count), 6});
      float *p = rows.mutable_data();
      for (int64_t j = 0; j < r.count; ++j) {
        const irmb_detection &d = r.items[j];
        float row[6] = {d.x1, d.y1, d.x2, d.y2, d.conf,
                        static_cast<float>(d.cls)};
        std::copy(row, row + 6, p + 6 * j);
      }
      out.push_back(py::make_tuple(r.orig_height, r.orig_width, rows));
    }
    return out;
  }

  irmb_model *model = nullptr;
  irmb_info info{};
  std::mutex mutex;
};

} // namespace

PYBIND11_MODULE(_irmb, m) {
  m.doc() = "irmb compiled-model runtime (see the irmb package)";
  py::class_<Model>(m, "_Model")
      .def(py::init<const std::string &, std::optional<int>>(), py::arg("path"),
           py::arg("threads") = py::none())
      .def("describe", &Model::describe)
      .def("run", &Model::run, py::arg("x"))
      .def("predict_files", &Model::predictFiles)
      .def("predict_arrays", &Model::predictArrays);
}
