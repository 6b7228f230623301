#include "table/csv_reader.h"

#include <algorithm>
#include <array>
#include <cstring>

#include "core/error.h"
#include "core/file.h"
#include "core/thread_pool.h"
#include "table/csv_sniffer.h"
#include "table/internal/csv_tokenizer.h"
#include "table/internal/string_dictionary.h"
#include "table/internal/value_parse.h"

namespace mloop::table {

const std::vector<std::string> kDefaultNullValues = {"",    "NA",  "N/A",  "NULL", "null",
                                                     "NaN", "nan", "None", "?"};

namespace {

using internal::FieldRef;

// Null markers. Most fields are ruled out by their length or first byte alone, so the
// per-field cost is two table lookups.
class NullMatcher {
 public:
  explicit NullMatcher(const std::vector<std::string>& values) : values_(values) {
    first_.fill(0);
    for (const auto& v : values_) {
      if (v.empty()) {
        empty_ = true;
        continue;
      }
      if (v.size() < 64) length_mask_ |= uint64_t{1} << v.size();
      first_[static_cast<uint8_t>(v[0])] = 1;
    }
  }
  bool operator()(const FieldRef& f) const {
    if (f.quoted) return false;
    if (f.len == 0) return empty_;
    if (!first_[static_cast<uint8_t>(f.ptr[0])]) return false;
    if (f.len < 64 && ((length_mask_ >> f.len) & 1) == 0) return false;
    for (const auto& v : values_) {
      if (v.size() == f.len && internal::BytesEqual(v.data(), f.ptr, f.len)) return true;
    }
    return false;
  }

 private:
  std::vector<std::string> values_;
  std::array<uint8_t, 256> first_;
  uint64_t length_mask_ = 0;
  bool empty_ = false;
};

// One column's values from one chunk.
struct ColumnBuilder {
  DataType type = DataType::kString;
  bool fixed = false;
  std::vector<int64_t> ints;
  std::vector<double> doubles;
  std::vector<uint8_t> bools;
  std::vector<uint64_t> offsets{0};
  std::string chars;
  std::vector<int32_t> codes;
  internal::StringDictionary dict;
  Bitmap validity;
  // Set when the type was inferred and a value needed a wider one.
  bool widen = false;
  DataType widen_to = DataType::kString;

  void Reserve(size_t rows) {
    validity.Reserve(rows);
    switch (type) {
      case DataType::kInt64:
      case DataType::kDate:
      case DataType::kTimestamp:
        ints.reserve(rows);
        break;
      case DataType::kFloat64:
        doubles.reserve(rows);
        break;
      case DataType::kBool:
        bools.reserve(rows);
        break;
      case DataType::kString:
        offsets.reserve(rows + 1);
        break;
      case DataType::kCategory:
        codes.reserve(rows);
        break;
    }
  }

  void AppendNull() {
    switch (type) {
      case DataType::kInt64:
      case DataType::kDate:
      case DataType::kTimestamp:
        ints.push_back(0);
        break;
      case DataType::kFloat64:
        doubles.push_back(0);
        break;
      case DataType::kBool:
        bools.push_back(0);
        break;
      case DataType::kString:
        offsets.push_back(chars.size());
        break;
      case DataType::kCategory:
        codes.push_back(0);
        break;
    }
    validity.Append(false);
  }

  // Appends the value read from `text`; false when it does not fit the type.
  bool AppendText(std::string_view text) {
    switch (type) {
      case DataType::kInt64: {
        int64_t v;
        if (!internal::ParseInt64(text, &v)) return false;
        ints.push_back(v);
        break;
      }
      case DataType::kFloat64: {
        double v;
        if (!internal::ParseFloat64(text, &v)) return false;
        doubles.push_back(v);
        break;
      }
      case DataType::kBool: {
        bool v;
        if (!internal::ParseBool(text, &v)) return false;
        bools.push_back(v ? 1 : 0);
        break;
      }
      case DataType::kDate: {
        auto v = ParseIsoDate(text);
        if (!v) return false;
        ints.push_back(*v);
        break;
      }
      case DataType::kTimestamp: {
        int64_t v;
        if (!internal::ParseTimestampOrDate(text, &v)) return false;
        ints.push_back(v);
        break;
      }
      case DataType::kString:
        chars.append(text);
        offsets.push_back(chars.size());
        break;
      case DataType::kCategory:
        codes.push_back(dict.FindOrAdd(text));
        break;
    }
    validity.Append(true);
    return true;
  }

  // Removes the last value (used to undo a partly appended malformed row).
  void PopBack() {
    switch (type) {
      case DataType::kInt64:
      case DataType::kDate:
      case DataType::kTimestamp:
        ints.pop_back();
        break;
      case DataType::kFloat64:
        doubles.pop_back();
        break;
      case DataType::kBool:
        bools.pop_back();
        break;
      case DataType::kString:
        offsets.pop_back();
        chars.resize(offsets.back());
        break;
      case DataType::kCategory:
        codes.pop_back();
        break;
    }
    validity.PopBack();
  }
};

struct ChunkOutput {
  std::vector<ColumnBuilder> columns;
  std::vector<int64_t> lines;  // Relative to the chunk's first line.
  std::vector<MalformedRow> malformed;
  const char* stop = nullptr;
  int64_t newlines = 0;
  bool widen = false;
};

struct ParsePlan {
  const CsvDialect* dialect;
  internal::TokenizerDialect tok;
  const NullMatcher* nulls;
  size_t max_field_bytes;
  const char* data_end;
};

std::string Describe(DataType t) { return std::string(DataTypeName(t)); }

void ParseChunk(const ParsePlan& plan, const char* begin, const char* end, ChunkOutput* out) {
  const CsvDialect& d = *plan.dialect;
  const size_t width = d.types.size();
  out->columns.resize(width);
  size_t estimate = static_cast<size_t>(end - begin) / std::max<size_t>(8 * width, 16) + 16;
  for (size_t c = 0; c < width; ++c) {
    out->columns[c].type = d.types[c];
    out->columns[c].fixed = d.type_fixed[c];
    out->columns[c].Reserve(estimate);
  }
  out->lines.reserve(estimate);
  internal::SpecialBytes special(plan.tok);
  internal::FieldList fields;
  std::string scratch;
  int64_t line = 0;
  const char* p = begin;
  auto malformed = [&](int64_t at, const char* rec, const char* rec_end, std::string reason) {
    out->malformed.push_back(
        {at, std::move(reason), std::string(rec, static_cast<size_t>(rec_end - rec))});
  };
  while (p < end) {
    p = internal::SkipBlankAndComments(p, end, d.comment, &line);
    if (p >= end) break;
    const char* rec = p;
    const int64_t rec_line = line;
    auto info = internal::ParseRecord(p, plan.data_end, plan.tok, special, &fields);
    p = info.next;
    line += info.newlines;
    if (info.status == internal::RecordStatus::kUnterminatedQuote) {
      malformed(rec_line, rec, info.content_end,
                "field " + std::to_string(info.bad_field + 1) +
                    ": quote opened here is never closed");
      continue;
    }
    if (info.status == internal::RecordStatus::kJunkAfterQuote) {
      malformed(rec_line, rec, info.content_end,
                "field " + std::to_string(info.bad_field + 1) +
                    ": unexpected text after the closing quote");
      continue;
    }
    if (fields.size() != width) {
      malformed(rec_line, rec, info.content_end,
                "expected " + std::to_string(width) + " fields, found " +
                    std::to_string(fields.size()));
      continue;
    }
    bool bad = false;
    for (size_t c = 0; c < width; ++c) {
      if (fields[c].len > plan.max_field_bytes) {
        malformed(rec_line, rec, info.content_end,
                  "field " + std::to_string(c + 1) + " ('" + d.names[c] + "') is " +
                      std::to_string(fields[c].len) + " bytes, over the limit of " +
                      std::to_string(plan.max_field_bytes));
        bad = true;
        break;
      }
    }
    if (bad) continue;
    if (!internal::IsValidUtf8(rec, info.content_end)) {
      // Name the first field with bad bytes.
      size_t c = 0;
      while (c + 1 < width && internal::IsValidUtf8(fields[c].ptr, fields[c].ptr + fields[c].len)) {
        ++c;
      }
      malformed(rec_line, rec, info.content_end,
                "invalid UTF-8 in field " + std::to_string(c + 1) + " ('" + d.names[c] + "')");
      continue;
    }
    size_t c = 0;
    for (; c < width; ++c) {
      ColumnBuilder& col = out->columns[c];
      const FieldRef& f = fields[c];
      if ((*plan.nulls)(f)) {
        col.AppendNull();
        continue;
      }
      std::string_view text = f.view();
      if (f.escaped) {
        internal::Unescape(text, plan.tok.quote, &scratch);
        text = scratch;
      }
      if (col.AppendText(text)) continue;
      if (col.fixed) break;
      // An inferred type too narrow for this value: note the wider type, keep going
      // so that one re-parse fixes every column.
      DataType need = internal::JoinTypes(col.type, internal::InferValueType(text));
      col.widen_to = col.widen ? internal::JoinTypes(col.widen_to, need) : need;
      col.widen = true;
      out->widen = true;
      col.AppendNull();
    }
    if (c < width) {
      std::string_view text = fields[c].view();
      if (text.size() > 80) text = text.substr(0, 80);
      malformed(rec_line, rec, info.content_end,
                "field " + std::to_string(c + 1) + " ('" + d.names[c] + "'): '" +
                    std::string(text) + "' is not a valid " + Describe(d.types[c]));
      for (size_t k = 0; k < c; ++k) out->columns[k].PopBack();
      continue;
    }
    out->lines.push_back(rec_line);
  }
  out->stop = p;
  out->newlines = line;
}

// Splits [begin, end) at record boundaries for `n` chunks. With a quote character a
// boundary is a line end outside quotes, found from the parity of the quotes before it.
std::vector<const char*> ChunkBoundaries(const char* begin, const char* end, size_t n,
                                         char quote) {
  std::vector<const char*> tentative;
  size_t size = static_cast<size_t>(end - begin);
  for (size_t i = 0; i <= n; ++i) tentative.push_back(begin + size * i / n);
  std::vector<int64_t> quotes(n, 0);
  if (quote != '\0') {
    ThreadPool::Default().ParallelFor(n, [&](size_t i) {
      const char* p = tentative[i];
      const char* e = tentative[i + 1];
      int64_t count = 0;
      while (p < e) {
        const void* q = std::memchr(p, quote, static_cast<size_t>(e - p));
        if (q == nullptr) break;
        ++count;
        p = static_cast<const char*>(q) + 1;
      }
      quotes[i] = count;
    });
  }
  std::vector<const char*> bounds{begin};
  int64_t parity = 0;
  for (size_t i = 1; i < n; ++i) {
    parity += quotes[i - 1];
    const char* p = tentative[i];
    bool inside = (parity & 1) != 0;
    while (p < end) {
      char ch = *p++;
      if (ch == quote && quote != '\0') {
        inside = !inside;
      } else if (ch == '\n' && !inside) {
        break;
      }
    }
    if (p > bounds.back() && p < end) bounds.push_back(p);
  }
  bounds.push_back(end);
  return bounds;
}

Column FinishColumn(std::string name, DataType type, std::vector<ChunkOutput>& chunks,
                    size_t c) {
  size_t rows = 0;
  for (auto& ch : chunks) rows += ch.columns[c].validity.size();
  Bitmap validity;
  validity.Reserve(rows);
  for (auto& ch : chunks) validity.AppendBitmap(ch.columns[c].validity);
  auto concat = [&](auto member) {
    using Vec = std::remove_reference_t<decltype(chunks[0].columns[c].*member)>;
    if (chunks.size() == 1) return std::move(chunks[0].columns[c].*member);
    Vec out;
    out.reserve(rows);
    for (auto& ch : chunks) {
      auto& v = ch.columns[c].*member;
      out.insert(out.end(), v.begin(), v.end());
    }
    return out;
  };
  switch (type) {
    case DataType::kInt64:
    case DataType::kDate:
    case DataType::kTimestamp:
      return Column::FromInts(std::move(name), type, concat(&ColumnBuilder::ints),
                              std::move(validity));
    case DataType::kFloat64:
      return Column::FromDoubles(std::move(name), concat(&ColumnBuilder::doubles),
                                 std::move(validity));
    case DataType::kBool:
      return Column::FromBools(std::move(name), concat(&ColumnBuilder::bools),
                               std::move(validity));
    case DataType::kString: {
      if (chunks.size() == 1) {
        auto& b = chunks[0].columns[c];
        return Column::FromStrings(std::move(name), std::move(b.offsets), std::move(b.chars),
                                   std::move(validity));
      }
      std::vector<uint64_t> offsets{0};
      offsets.reserve(rows + 1);
      std::string chars;
      size_t total = 0;
      for (auto& ch : chunks) total += ch.columns[c].chars.size();
      chars.reserve(total);
      for (auto& ch : chunks) {
        auto& b = ch.columns[c];
        uint64_t base = chars.size();
        chars.append(b.chars);
        for (size_t i = 1; i < b.offsets.size(); ++i) offsets.push_back(base + b.offsets[i]);
      }
      return Column::FromStrings(std::move(name), std::move(offsets), std::move(chars),
                                 std::move(validity));
    }
    case DataType::kCategory: {
      // The dictionary in order of first appearance in the file: chunk by chunk.
      internal::StringDictionary merged;
      std::vector<int32_t> codes;
      codes.reserve(rows);
      for (auto& ch : chunks) {
        auto& b = ch.columns[c];
        std::vector<int32_t> remap(b.dict.size());
        for (size_t i = 0; i < remap.size(); ++i) remap[i] = merged.FindOrAdd(b.dict.value(i));
        for (int32_t code : b.codes) {
          codes.push_back(remap.empty() ? 0 : remap[static_cast<size_t>(code)]);
        }
      }
      return Column::FromCategory(std::move(name), std::move(codes), merged.TakeValues(),
                                  std::move(validity));
    }
  }
  ThrowInternal("unknown column type");
}

}  // namespace

CsvReadResult ReadCsvBuffer(std::string_view data, std::string_view source,
                            const CsvOptions& options) {
  const std::string src(source);
  CsvReadResult result;
  result.bytes = data.size();
  if (data.empty()) ThrowInvalidArgument(src + ": empty file");
  if (data.size() >= 3 && std::memcmp(data.data(), "\xEF\xBB\xBF", 3) == 0) {
    data.remove_prefix(3);
  }
  if (options.delimiter && (*options.delimiter == '\n' || *options.delimiter == '\r' ||
                            *options.delimiter == options.quote.value_or('"'))) {
    ThrowInvalidArgument(src + ": the delimiter cannot be a line end or the quote character");
  }
  CsvDialect dialect = SniffCsv(data, source, options);
  const char* end = data.data() + data.size();

  // Find where the data rows start: after skipped lines, blank and comment lines and
  // the header record.
  int64_t line = 1;
  const char* p = SkipLines(data, dialect.skip_lines);
  line += static_cast<int64_t>(dialect.skip_lines);
  p = internal::SkipBlankAndComments(p, end, dialect.comment, &line);
  internal::TokenizerDialect tok{dialect.delimiter, dialect.quote, dialect.skip_initial_space};
  if (dialect.header && p < end) {
    internal::FieldList fields;
    auto info = internal::ParseRecord(p, end, tok, internal::SpecialBytes(tok), &fields);
    if (info.status != internal::RecordStatus::kOk) {
      ThrowInvalidArgument(src + ":" + std::to_string(line) +
                           ": the header line is malformed (a quote is not closed)");
    }
    p = info.next;
    line += info.newlines;
  }
  const char* data_begin = p;
  const int64_t first_line = line;

  NullMatcher nulls(dialect.null_values);
  size_t threads = options.threads == 0 ? ThreadPool::Default().size() + 1 : options.threads;
  size_t size = static_cast<size_t>(end - data_begin);
  constexpr size_t kMinChunk = size_t{1} << 20;
  size_t n = threads <= 1 ? 1 : std::clamp<size_t>(size / kMinChunk, 1, threads * 4);

  std::vector<ChunkOutput> chunks;
  for (int attempt = 0;; ++attempt) {
    ParsePlan plan{&dialect, tok, &nulls, options.max_field_bytes, end};
    std::vector<const char*> bounds = ChunkBoundaries(data_begin, end, n, dialect.quote);
    chunks.assign(bounds.size() - 1, ChunkOutput{});
    ThreadPool::Default().ParallelFor(chunks.size(), [&](size_t i) {
      ParseChunk(plan, bounds[i], bounds[i + 1], &chunks[i]);
    });
    // Each chunk must end where the next begins; otherwise a boundary fell inside a
    // record (unbalanced quotes) and only a sequential parse is right.
    bool aligned = true;
    for (size_t i = 0; i + 1 < chunks.size(); ++i) {
      if (chunks[i].stop != bounds[i + 1]) aligned = false;
    }
    if (!aligned) {
      chunks.assign(1, ChunkOutput{});
      ParseChunk(plan, data_begin, end, &chunks[0]);
      n = 1;
    }
    bool widen = false;
    for (size_t c = 0; c < dialect.types.size(); ++c) {
      bool any = false;
      DataType to = dialect.types[c];
      for (auto& ch : chunks) {
        if (ch.columns[c].widen) {
          to = any ? internal::JoinTypes(to, ch.columns[c].widen_to) : ch.columns[c].widen_to;
          any = true;
        }
      }
      if (any) {
        // After a few rounds, give up on narrow types.
        dialect.types[c] = attempt >= 3 ? DataType::kString : to;
        widen = true;
      }
    }
    if (!widen) break;
  }

  // Line numbers: each chunk's are relative to its own first line.
  Table& table = result.table;
  std::vector<int64_t> lines;
  size_t rows = 0;
  for (auto& ch : chunks) rows += ch.lines.size();
  lines.reserve(rows);
  int64_t base = first_line;
  for (auto& ch : chunks) {
    for (int64_t l : ch.lines) lines.push_back(base + l);
    for (auto& m : ch.malformed) {
      m.line += base;
      result.malformed.push_back(std::move(m));
    }
    base += ch.newlines;
  }
  result.lines = static_cast<uint64_t>(base - 1) + (data.empty() || data.back() == '\n' ? 0 : 1);
  table.set_line_numbers(std::move(lines));
  for (size_t c = 0; c < dialect.types.size(); ++c) {
    table.AddColumn(FinishColumn(dialect.names[c], dialect.types[c], chunks, c));
  }
  result.dialect = std::move(dialect);
  return result;
}

CsvReadResult ReadCsv(const std::filesystem::path& path, const CsvOptions& options) {
  MappedFile file(path);
  return ReadCsvBuffer(file.view(), path.string(), options);
}

}  // namespace mloop::table
