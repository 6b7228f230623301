#include "table/csv_writer.h"

#include <array>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "core/file.h"
#include "core/time.h"
#include "table/csv_reader.h"

namespace mloop::table {
namespace {

// The stream overload hands text to the stream in pieces of this size.
constexpr size_t kFlushBytes = size_t{1} << 20;

// Formats the fields of one table. Text that may need quoting is checked byte by byte
// against a table; category entries are rendered once per dictionary entry, and
// dates and timestamps once per run of equal values.
class CsvFormatter {
 public:
  CsvFormatter(const Table& table, const CsvWriteOptions& options)
      : table_(table), options_(options) {
    const char d = options.delimiter;
    if (d == '"' || d == '\r' || d == '\n') {
      ThrowInvalidArgument("CSV writer: the delimiter cannot be a quote, CR or LF");
    }
    special_.fill(false);
    special_[static_cast<unsigned char>(d)] = true;
    special_['"'] = special_['\r'] = special_['\n'] = true;
    for (const std::string& m : kDefaultNullValues) AddMarker(m);
    AddMarker(options.null_text);
    const size_t n = table.num_columns();
    rendered_.resize(n);
    cached_value_.assign(n, std::numeric_limits<int64_t>::min());
    cached_text_.resize(n);
    for (size_t j = 0; j < n; ++j) {
      const Column& c = table.column(j);
      if (c.type() != DataType::kCategory) continue;
      for (const std::string& entry : c.dictionary()) {
        std::string text;
        AppendField(entry, text);
        rendered_[j].push_back(std::move(text));
      }
    }
  }

  void AppendHeader(std::string& out) const {
    for (size_t j = 0; j < table_.num_columns(); ++j) {
      if (j > 0) out += options_.delimiter;
      AppendField(table_.column(j).name(), out);
    }
    out += '\n';
  }

  void AppendRow(size_t r, std::string& out) {
    const size_t n = table_.num_columns();
    for (size_t j = 0; j < n; ++j) {
      if (j > 0) out += options_.delimiter;
      const Column& c = table_.column(j);
      if (c.IsNull(r)) {
        // A lone empty field would be a blank line, which readers skip.
        if (n == 1 && options_.null_text.empty()) {
          out += "\"\"";
        } else {
          out += options_.null_text;
        }
        continue;
      }
      switch (c.type()) {
        case DataType::kInt64: {
          char buf[24];
          auto [end, ec] = std::to_chars(buf, buf + sizeof buf, c.IntAt(r));
          AppendField(std::string_view(buf, static_cast<size_t>(end - buf)), out);
          break;
        }
        case DataType::kFloat64:
          AppendDouble(c.DoubleAt(r), out);
          break;
        case DataType::kBool:
          AppendField(c.BoolAt(r) ? "true" : "false", out);
          break;
        case DataType::kString:
          AppendField(c.StringAt(r), out);
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
    out += '\n';
  }

 private:
  void AddMarker(std::string_view m) {
    if (m.empty()) return;  // Empty text is always quoted.
    marker_start_[static_cast<unsigned char>(m[0])] = true;
    markers_.push_back(m);
  }

  bool NeedsQuotes(std::string_view text) const {
    if (text.empty()) return true;
    if (text.front() == ' ' || text.back() == ' ') return true;
    for (char ch : text) {
      if (special_[static_cast<unsigned char>(ch)]) return true;
    }
    if (marker_start_[static_cast<unsigned char>(text[0])]) {
      for (std::string_view m : markers_) {
        if (text == m) return true;
      }
    }
    return false;
  }

  void AppendField(std::string_view text, std::string& out) const {
    if (!NeedsQuotes(text)) {
      out += text;
      return;
    }
    out += '"';
    for (size_t q; (q = text.find('"')) != std::string_view::npos;) {
      out.append(text.data(), q + 1);
      out += '"';
      text.remove_prefix(q + 1);
    }
    out += text;
    out += '"';
  }

  void AppendDouble(double v, std::string& out) const {
    if (std::isnan(v)) {
      AppendField("NaN", out);
      return;
    }
    char buf[32];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf - 2, v);
    std::string_view text(buf, static_cast<size_t>(end - buf));
    // A whole number gets ".0" so that the column reads back as float64; "inf" and
    // "1e+300" already read as one.
    if (text.find_first_of(".en") == std::string_view::npos) {
      *end++ = '.';
      *end++ = '0';
      text = std::string_view(buf, static_cast<size_t>(end - buf));
    }
    AppendField(text, out);
  }

  void AppendTemporal(size_t j, const Column& c, size_t r, std::string& out) {
    const int64_t v = c.IntAt(r);
    if (v != cached_value_[j] || cached_text_[j].empty()) {
      cached_value_[j] = v;
      cached_text_[j].clear();
      AppendField(c.type() == DataType::kDate ? FormatIsoDate(v) : FormatIsoTimestamp(v),
                  cached_text_[j]);
    }
    out += cached_text_[j];
  }

  const Table& table_;
  const CsvWriteOptions& options_;
  std::array<bool, 256> special_;
  std::array<bool, 256> marker_start_{};
  std::vector<std::string_view> markers_;
  std::vector<std::vector<std::string>> rendered_;  // Category columns' entries, as written.
  std::vector<int64_t> cached_value_;               // Date and timestamp columns.
  std::vector<std::string> cached_text_;
};

}  // namespace

void WriteCsv(const Table& table, std::ostream& out, const CsvWriteOptions& options) {
  CsvFormatter formatter(table, options);
  if (table.num_columns() == 0) return;
  std::string buf;
  buf.reserve(kFlushBytes + (kFlushBytes >> 2));
  if (options.header) formatter.AppendHeader(buf);
  for (size_t r = 0; r < table.num_rows(); ++r) {
    formatter.AppendRow(r, buf);
    if (buf.size() >= kFlushBytes) {
      out.write(buf.data(), static_cast<std::streamsize>(buf.size()));
      buf.clear();
    }
  }
  out.write(buf.data(), static_cast<std::streamsize>(buf.size()));
  out.flush();
  if (!out.good()) ThrowDataLoss("CSV writer: writing to the output stream failed");
}

void WriteCsv(const Table& table, const std::filesystem::path& path,
              const CsvWriteOptions& options) {
  CsvFormatter formatter(table, options);
  std::string text;
  if (table.num_columns() > 0) {
    if (options.header) formatter.AppendHeader(text);
    for (size_t r = 0; r < table.num_rows(); ++r) formatter.AppendRow(r, text);
  }
  WriteFileAtomic(path, text);
}

}  // namespace mloop::table
