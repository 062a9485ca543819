// The one conversion of C++ text to Python str: never raises, whatever bytes a model's names hold.
#pragma once
#include <pybind11/pybind11.h>

#include <string>
#include <string_view>
#include <vector>

#include "netscore/text.h"

namespace netscore::bindings {

// Bytes that are not valid UTF-8 are shown as backslash escapes ("\xff"), like
// bytes.decode("utf-8", "backslashreplace") (netscore/text.h, which the fuzz target checks without Python):
// the result is printable and writes to any UTF-8 file (CSV, JSON, the cache), unlike surrogateescape.
// See docs/counting.md, "Names that are not UTF-8".
inline pybind11::str to_pystr(std::string_view text) {
  std::string escaped;
  if (!valid_utf8(text)) text = escaped = utf8_backslashreplace(text);
  PyObject* s = PyUnicode_DecodeUTF8(text.data(), static_cast<Py_ssize_t>(text.size()), "strict");
  if (s == nullptr) throw pybind11::error_already_set();  // only when out of memory: the text is valid
  return pybind11::reinterpret_steal<pybind11::str>(s);
}

inline pybind11::list to_pystr_list(const std::vector<std::string>& texts) {
  pybind11::list out(texts.size());
  for (size_t i = 0; i < texts.size(); ++i) out[i] = to_pystr(texts[i]);
  return out;
}

}  // namespace netscore::bindings
