#include "table/jsonl_writer.h"

#include <array>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "core/file.h"
#include "core/time.h"

namespace mloop::table {
namespace {

// The stream overload hands text to the stream in pieces of this size.
constexpr size_t kFlushBytes = size_t{1} << 20;

// Bytes that cannot stand for themselves inside a JSON string.
constexpr std::array<bool, 256> kNeedsEscape = [] {
  std::array<bool, 256> t{};
  for (int c = 0; c < 0x20; ++c) t[static_cast<size_t>(c)] = true;
  t['"'] = t['\\'] = true;
  return t;
}();

// Appends `text` as a JSON string, quotes included. Runs of plain bytes are copied at
// once.
void AppendJsonString(std::string_view text, std::string& out) {
  out += '"';
  size_t plain = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    const unsigned char ch = static_cast<unsigned char>(text[i]);
    if (!kNeedsEscape[ch]) continue;
    out.append(text.data() + plain, i - plain);
    plain = i + 1;
    switch (ch) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      default: {
        static constexpr char kHex[] = "0123456789abcdef";
        const char esc[] = {'\\', 'u', '0', '0', kHex[ch >> 4], kHex[ch & 15]};
        out.append(esc, sizeof esc);
      }
    }
  }
  out.append(text.data() + plain, text.size() - plain);
  out += '"';
}

// Formats the rows of one table. Keys are rendered once; category entries once per
// dictionary entry; dates and timestamps once per run of equal values.
class JsonlFormatter {
 public:
  explicit JsonlFormatter(const Table& table) : table_(table) {
    const size_t n = table.num_columns();
    keys_.resize(n);
    rendered_.resize(n);
    cached_value_.assign(n, std::numeric_limits<int64_t>::min());
    cached_text_.resize(n);
    for (size_t j = 0; j < n; ++j) {
      const Column& c = table.column(j);
      keys_[j] = j == 0 ? "{" : ",";
      AppendJsonString(c.name(), keys_[j]);
      keys_[j] += ':';
      if (c.type() != DataType::kCategory) continue;
      for (const std::string& entry : c.dictionary()) {
        std::string text;
        AppendJsonString(entry, text);
        rendered_[j].push_back(std::move(text));
      }
    }
  }

  void AppendRow(size_t r, std::string& out) {
    const size_t n = table_.num_columns();
    if (n == 0) out += '{';
    for (size_t j = 0; j < n; ++j) {
      out += keys_[j];
      const Column& c = table_.column(j);
      if (c.IsNull(r)) {
        out += "null";
        continue;
      }
      switch (c.type()) {
        case DataType::kInt64: {
          char buf[24];
          auto [end, ec] = std::to_chars(buf, buf + sizeof buf, c.IntAt(r));
          out.append(buf, end);
          break;
        }
        case DataType::kFloat64:
          AppendDouble(c.DoubleAt(r), out);
          break;
        case DataType::kBool:
          out += c.BoolAt(r) ? "true" : "false";
          break;
        case DataType::kString:
          AppendJsonString(c.StringAt(r), out);
          break;
        case DataType::kCategory:
          out += rendered_[j][static_cast<size_t>(c.CodeAt(r))];
          break;
        case DataType::kDate:
        case DataType::kTimestamp:
          AppendTemporal(j, c, r, out);
          break;
      }
    }
    out += "}\n";
  }

 private:
  static void AppendDouble(double v, std::string& out) {
    if (!std::isfinite(v)) {
      out += "null";
      return;
    }
    char buf[32];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf - 2, v);
    // A whole number gets ".0" so that the column reads back as float64.
    if (std::string_view(buf, static_cast<size_t>(end - buf)).find_first_of(".e") ==
        std::string_view::npos) {
      *end++ = '.';
      *end++ = '0';
    }
    out.append(buf, end);
  }

  void AppendTemporal(size_t j, const Column& c, size_t r, std::string& out) {
    const int64_t v = c.IntAt(r);
    if (v != cached_value_[j] || cached_text_[j].empty()) {
      cached_value_[j] = v;
      cached_text_[j].clear();
      AppendJsonString(c.type() == DataType::kDate ? FormatIsoDate(v) : FormatIsoTimestamp(v),
                       cached_text_[j]);
    }
    out += cached_text_[j];
  }

  const Table& table_;
  std::vector<std::string> keys_;  // `{"name":` for the first column, `,"name":` after.
  std::vector<std::vector<std::string>> rendered_;  // Category columns' entries, as written.
  std::vector<int64_t> cached_value_;               // Date and timestamp columns.
  std::vector<std::string> cached_text_;
};

}  // namespace

void WriteJsonl(const Table& table, std::ostream& out) {
  JsonlFormatter formatter(table);
  std::string buf;
  buf.reserve(kFlushBytes + (kFlushBytes >> 2));
  for (size_t r = 0; r < table.num_rows(); ++r) {
    formatter.AppendRow(r, buf);
    if (buf.size() >= kFlushBytes) {
      out.write(buf.data(), static_cast<std::streamsize>(buf.size()));
      buf.clear();
    }
  }
  out.write(buf.data(), static_cast<std::streamsize>(buf.size()));
  out.flush();
  if (!out.good()) ThrowDataLoss("JSON Lines writer: writing to the output stream failed");
}

void WriteJsonl(const Table& table, const std::filesystem::path& path) {
  JsonlFormatter formatter(table);
  std::string text;
  for (size_t r = 0; r < table.num_rows(); ++r) formatter.AppendRow(r, text);
  WriteFileAtomic(path, text);
}

}  // namespace mloop::table
