#include "table/csv_sniffer.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <set>

#include "core/error.h"
#include "core/thread_pool.h"
#include "table/internal/csv_tokenizer.h"
#include "table/internal/null_matcher.h"
#include "table/internal/string_dictionary.h"
#include "table/internal/value_parse.h"

namespace mloop::table {
namespace {

using internal::PlainField;
using internal::TokenizerDialect;

// Records tokenized from the sample with one candidate dialect. Field texts are views
// into the sample, or into `unescaped` for quoted fields with doubled quotes.
struct SampleRecords {
  // 16 bytes, not a string_view's 24: the sample's 300,000 or so fields are written to
  // fresh memory, whose page faults are a good part of sniffing a file.
  struct Field {
    Field() = default;
    Field(std::string_view t, bool q)
        : data(t.data()), size(static_cast<uint32_t>(t.size())), quoted(q) {}
    std::string_view text() const { return {data, size}; }

    const char* data = nullptr;
    uint32_t size = 0;  // The sample is at most kMaxSampleBytes.
    bool quoted = false;
  };
  std::vector<Field> fields;
  std::vector<size_t> row_start{0};  // Row r is fields[row_start[r], row_start[r + 1]).
  std::deque<std::string> unescaped;
  size_t modal_fields = 0;
  size_t consistent = 0;  // Rows with modal_fields fields.
  bool broken = false;    // A quote never closed or had junk after it.

  size_t rows() const { return row_start.size() - 1; }
  size_t width(size_t r) const { return row_start[r + 1] - row_start[r]; }
  const Field& at(size_t r, size_t c) const { return fields[row_start[r] + c]; }
};

constexpr size_t kDialectProbeRecords = 200;
// Past this many distinct values a text column is a string, not a category, so counting
// further is wasted.
constexpr size_t kMaxDistinct = 4097;
// The sample is at most this many bytes (whole lines), and never less than one line.
constexpr size_t kMaxSampleBytes = size_t{8} << 20;

// The type a field's text reads as; a quoted empty field is text.
DataType FieldType(const SampleRecords::Field& f) {
  return f.quoted && f.text().empty() ? DataType::kString : internal::InferValueType(f.text());
}

// Splits up to `max_records` records of `sample`. The fields of the first `keep_records` are
// kept; the later records are only counted, towards modal_fields, consistent and broken
// (rows() is then the number kept).
SampleRecords Tokenize(std::string_view sample, const TokenizerDialect& d, char comment,
                       size_t max_records, size_t keep_records = SIZE_MAX) {
  SampleRecords out;
  internal::SpecialBytes special(d);
  internal::FieldList fields;
  // Plain records (no quotes) are split by SplitPlainRecord, without ParseRecord's
  // generality.
  internal::StopBytes stops(d);
  internal::StopScanner scan(&stops, sample.data(), sample.data() + sample.size());
  std::vector<const char*> bounds(257);
  const char* p = sample.data();
  const char* end = p + sample.size();
  int64_t lines = 0;
  std::map<size_t, size_t> counts;
  keep_records = std::min(keep_records, max_records);
  out.row_start.reserve(std::min(keep_records, size_t{1} << 16) + 1);
  for (size_t records = 0; records < max_records; ++records) {
    p = internal::SkipBlankAndComments(p, end, comment, &lines);
    if (p >= end) break;
    const char* content_end;
    const char* next;
    const size_t n = internal::SplitPlainRecord(p, end, d, &scan, bounds.data(), bounds.size() - 1,
                                                &content_end, &next);
    if (n > 0 && records >= keep_records) {
      ++counts[n];
      p = next;
      continue;
    }
    if (n > 0) {
      // Room for the fields of all records, assuming they are like the first.
      if (out.fields.empty()) out.fields.reserve(std::min(keep_records, size_t{1} << 16) * n);
      const size_t at = out.fields.size();
      out.fields.resize(at + n);
      for (size_t i = 0; i < n; ++i) {
        out.fields[at + i] = {PlainField(bounds.data(), i, d.skip_initial_space).view(), false};
      }
      out.row_start.push_back(out.fields.size());
      ++counts[n];
      p = next;
      continue;
    }
    auto info = internal::ParseRecord(p, end, d, special, &fields);
    if (info.status != internal::RecordStatus::kOk) out.broken = true;
    if (records >= keep_records) {
      ++counts[fields.size()];
      p = info.next;
      continue;
    }
    for (const auto& f : fields) {
      if (f.escaped) {
        out.unescaped.emplace_back();
        internal::Unescape(f.view(), d.quote, &out.unescaped.back());
        out.fields.push_back({out.unescaped.back(), f.quoted});
      } else {
        out.fields.push_back({f.view(), f.quoted});
      }
    }
    out.row_start.push_back(out.fields.size());
    ++counts[fields.size()];
    p = info.next;
  }
  for (const auto& [n, c] : counts) {
    if (c > out.consistent || (c == out.consistent && n > out.modal_fields)) {
      out.consistent = c;
      out.modal_fields = n;
    }
  }
  return out;
}

// What the sample says about one column.
struct ColumnGuess {
  DataType type = DataType::kString;
  size_t non_null = 0;
  size_t distinct = 0;
};

// Infers the type of one column from its values, given in row order.
class ColumnGuesser {
 public:
  // `nulls` must outlive the guesser; `readable_end` bounds the buffer the sample's
  // unquoted field texts point into.
  ColumnGuesser(const internal::NullMatcher* nulls, const char* readable_end)
      : nulls_(nulls), readable_end_(readable_end) {}

  void Add(const SampleRecords::Field& f) {
    if (nulls_->Matches(f.text(), f.quoted)) return;
    ++g_.non_null;
    bool is_new = false;
    if (distinct_.size() < kMaxDistinct) {
      const size_t before = distinct_.size();
      distinct_.FindOrAdd(f.text(), ReadableEnd(f));
      is_new = distinct_.size() > before;
    }
    if (seen_ && g_.type == DataType::kString) return;
    if (!is_new && seen_) return;  // A value already seen cannot change the type.
    g_.type = seen_ ? internal::JoinTypes(g_.type, FieldType(f)) : FieldType(f);
    seen_ = true;
  }

  ColumnGuess Result() const {
    ColumnGuess g = g_;
    g.distinct = distinct_.size();
    if (!seen_) g.type = DataType::kString;
    return g;
  }

  // The guess had `first` (not a null marker) come before the values added, when it
  // follows without adding them again: when the distinct values stayed under the limit,
  // every distinct value's type was inferred either way, and `first` only adds its own
  // value, its type (JoinTypes is associative and commutative) and, unless it recurs,
  // one distinct value. Adds `first` to the distinct values.
  std::optional<ColumnGuess> ResultWithFirst(const SampleRecords::Field& first) {
    const ColumnGuess rest = Result();
    if (rest.distinct + 1 >= kMaxDistinct) return std::nullopt;
    ColumnGuess all = rest;
    distinct_.FindOrAdd(first.text(), ReadableEnd(first));
    all.distinct = distinct_.size();
    all.type =
        rest.non_null == 0 ? FieldType(first) : internal::JoinTypes(FieldType(first), rest.type);
    ++all.non_null;
    return all;
  }

 private:
  // A quoted text may point into SampleRecords::unescaped: read no further than it.
  const char* ReadableEnd(const SampleRecords::Field& f) const {
    return f.quoted ? f.text().data() + f.text().size() : readable_end_;
  }

  const internal::NullMatcher* nulls_;
  const char* readable_end_;
  ColumnGuess g_;
  bool seen_ = false;
  internal::StringDictionary distinct_;
};

// Guesses the columns [begin, end) over the rows from `first` that have `width` fields;
// with `wanted`, only the columns it marks (the others' guessers see no value). One pass
// over the rows for all of them: the sample is stored row by row, and a pass per column
// would stride through all of it again and again.
std::vector<ColumnGuesser> GuessColumns(const SampleRecords& s, size_t begin, size_t end,
                                        size_t first, size_t width,
                                        const internal::NullMatcher& nulls,
                                        const char* readable_end,
                                        const std::vector<bool>* wanted = nullptr) {
  std::vector<ColumnGuesser> guessers(end - begin, ColumnGuesser(&nulls, readable_end));
  std::vector<size_t> columns;
  for (size_t c = begin; c < end; ++c) {
    if (wanted == nullptr || (*wanted)[c]) columns.push_back(c);
  }
  for (size_t r = first; r < s.rows(); ++r) {
    if (s.width(r) != width) continue;
    const SampleRecords::Field* row = &s.at(r, 0);
    for (size_t c : columns) guessers[c - begin].Add(row[c]);
  }
  return guessers;
}

bool Fits(std::string_view v, DataType t) {
  switch (t) {
    case DataType::kInt64: {
      int64_t i;
      return internal::ParseInt64(v, &i);
    }
    case DataType::kFloat64: {
      double d;
      return internal::ParseFloat64(v, &d);
    }
    case DataType::kBool: {
      bool b;
      return internal::ParseBool(v, &b);
    }
    case DataType::kDate:
      return ParseIsoDate(v).has_value();
    case DataType::kTimestamp: {
      int64_t t2;
      return internal::ParseTimestampOrDate(v, &t2);
    }
    default:
      return true;
  }
}

std::string Trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && (s[b] == ' ' || s[b] == '\t')) ++b;
  while (e > b && (s[e - 1] == ' ' || s[e - 1] == '\t' || s[e - 1] == '\r')) --e;
  return std::string(s.substr(b, e - b));
}

}  // namespace

const char* SkipLines(std::string_view data, size_t n) {
  const char* p = data.data();
  const char* end = p + data.size();
  for (size_t i = 0; i < n && p < end; ++i) {
    const void* nl = std::memchr(p, '\n', static_cast<size_t>(end - p));
    p = nl == nullptr ? end : static_cast<const char*>(nl) + 1;
  }
  return p;
}

CsvDialect SniffCsv(std::string_view data, std::string_view source, const CsvOptions& options) {
  const std::string src(source);
  CsvDialect dialect;
  dialect.comment = options.comment;
  dialect.skip_lines = options.skip_lines;
  dialect.null_values = options.null_values.value_or(kDefaultNullValues);

  const char* start = SkipLines(data, options.skip_lines);
  std::string_view rest(start, static_cast<size_t>(data.data() + data.size() - start));

  // The sample: whole lines, up to sample_lines of them and kMaxSampleBytes.
  size_t limit = std::min(rest.size(), kMaxSampleBytes);
  const char* sample_end = SkipLines(rest.substr(0, limit), options.sample_lines);
  if (sample_end == rest.data() + limit && limit < rest.size()) {
    // Cut at the last line end inside the limit; if there is none, take the limit.
    std::string_view cut = rest.substr(0, limit);
    size_t nl = cut.rfind('\n');
    if (nl != std::string_view::npos) sample_end = rest.data() + nl + 1;
  }
  std::string_view sample(rest.data(), static_cast<size_t>(sample_end - rest.data()));

  // 1. Delimiter and quote: the candidate that splits the most probe records alike.
  std::vector<char> delimiters = options.delimiter ? std::vector<char>{*options.delimiter}
                                                   : std::vector<char>{',', '\t', ';', '|'};
  // The quote is '"' unless the caller says otherwise: trying '\'' as well made files
  // whose double quotes are broken read "cleanly" with the wrong quote, hiding the error.
  std::vector<char> quotes = {options.quote.value_or('"')};
  bool found = false;
  SampleRecords best;
  TokenizerDialect best_d;
  for (char q : quotes) {
    for (char delim : delimiters) {
      TokenizerDialect d{delim, q, false};
      SampleRecords s = Tokenize(sample, d, options.comment, kDialectProbeRecords);
      if (s.rows() == 0) continue;
      auto better = [&] {
        if (!found) return true;
        bool multi = s.modal_fields > 1, best_multi = best.modal_fields > 1;
        if (multi != best_multi) return multi;
        if (s.broken != best.broken) return !s.broken;
        if (s.consistent != best.consistent) return s.consistent > best.consistent;
        return s.modal_fields > best.modal_fields;
      };
      if (better()) {
        best = std::move(s);
        best_d = d;
        found = true;
      }
    }
  }
  if (!found) {
    ThrowInvalidArgument(src + ": empty file: no header and no rows to read");
  }
  dialect.delimiter = best_d.delimiter;
  dialect.quote = best_d.quote;

  // 2. Spaces after the delimiter: skipped when (nearly) every later field starts so.
  if (options.skip_initial_space) {
    dialect.skip_initial_space = *options.skip_initial_space;
  } else {
    size_t with_space = 0, total = 0;
    for (size_t r = 0; r < best.rows(); ++r) {
      for (size_t c = 1; c < best.width(r); ++c) {
        const auto& f = best.at(r, c);
        if (f.text().empty() || f.quoted) continue;
        ++total;
        with_space += f.text()[0] == ' ';
      }
    }
    dialect.skip_initial_space = total > 0 && with_space * 100 >= total * 95;
  }

  // 3. The sample with the final dialect. When the caller gives the header, the names and
  // every column's type (an ingest with a contract), no column is guessed: the whole sample
  // is still split, for the usual field count, but only the first records' fields are kept
  // (keeping all 20,000 lines' of the bench file took 7 MB of fresh memory for fields that
  // were never looked at).
  const bool guesses =
      !options.header || options.names.empty() ||
      std::any_of(options.names.begin(), options.names.end(),
                  [&](const std::string& n) { return !options.column_types.contains(n); });
  TokenizerDialect final_d{dialect.delimiter, dialect.quote, dialect.skip_initial_space};
  SampleRecords s = Tokenize(sample, final_d, options.comment, options.sample_lines,
                             guesses ? options.sample_lines : kDialectProbeRecords);
  const size_t width =
      options.names_fix_width && !options.names.empty() ? options.names.size() : s.modal_fields;
  const internal::NullMatcher nulls(dialect.null_values);
  const char* data_end = data.data() + data.size();
  // Columns are independent: guess them in groups, a group per thread (unless the caller
  // asked for one thread).
  const size_t groups =
      options.threads == 1 ? 1 : std::min(width, ThreadPool::Default().size() + 1);
  auto for_each_group = [&](const std::function<void(size_t, size_t)>& fn) {
    ThreadPool::Default().ParallelFor(
        groups, [&](size_t g) { fn(width * g / groups, width * (g + 1) / groups); });
  };

  // 4. Header: given, or true when some column typed from the other rows does not
  // read its first-row value. The guess over all rows, wanted when there is no header,
  // mostly follows from the same pass (ColumnGuesser::ResultWithFirst).
  const bool row0_counts = s.rows() > 0 && s.width(0) == width;
  std::vector<ColumnGuess> rest_guess(width);
  std::vector<std::optional<ColumnGuess>> all_guess(width);
  // The columns to guess. All of them when the header is to be decided, which looks at
  // every column's guess; with the header given, only those whose type the caller did not
  // fix (see step 6), since a fixed column's guess decides nothing. (Guessing is most of
  // sniffing: with a contract fixing every column, sniffing the bench file took 4.5 ms of
  // CPU, 1.7 ms without the guesses.)
  std::vector<bool> wanted(width, true);
  auto guess_columns = [&] {
    if (std::find(wanted.begin(), wanted.end(), true) == wanted.end()) return;
    for_each_group([&](size_t begin, size_t end) {
      std::vector<ColumnGuesser> guessers =
          GuessColumns(s, begin, end, 1, width, nulls, data_end, &wanted);
      for (size_t c = begin; c < end; ++c) {
        if (!wanted[c]) continue;
        ColumnGuesser& g = guessers[c - begin];
        rest_guess[c] = g.Result();
        if (!row0_counts || nulls.Matches(s.at(0, c).text(), s.at(0, c).quoted)) {
          all_guess[c] = rest_guess[c];  // Both skip row 0.
        } else {
          all_guess[c] = g.ResultWithFirst(s.at(0, c));
        }
      }
    });
  };
  if (!options.header) guess_columns();
  if (options.header) {
    dialect.header = *options.header;
  } else if (s.width(0) != width) {
    dialect.header = false;
  } else {
    bool header = false;
    bool all_text = true;
    for (size_t c = 0; c < width; ++c) {
      if (rest_guess[c].type != DataType::kString) all_text = false;
      std::string_view v = s.at(0, c).text();
      if (rest_guess[c].type != DataType::kString && rest_guess[c].non_null > 0 &&
          !nulls.Matches(v, s.at(0, c).quoted) && !Fits(v, rest_guess[c].type)) {
        header = true;
      }
    }
    if (all_text) {
      // Only text: a header when its values are distinct, not empty, and none of them
      // occurs again in its column.
      std::set<std::string> seen;
      header = true;
      for (size_t c = 0; c < width && header; ++c) {
        std::string_view v = s.at(0, c).text();
        if (v.empty() || !seen.insert(std::string(v)).second) header = false;
        for (size_t r = 1; r < s.rows() && header; ++r) {
          if (s.width(r) == width && s.at(r, c).text() == v) header = false;
        }
      }
      if (s.rows() == 1) {
        for (size_t c = 0; c < width; ++c) {
          if (internal::InferValueType(s.at(0, c).text()) != DataType::kString) header = false;
        }
      }
    }
    dialect.header = header;
  }

  // 5. Names.
  std::vector<std::string> names(width);
  if (dialect.header && s.width(0) == width) {
    for (size_t c = 0; c < width; ++c) names[c] = Trim(s.at(0, c).text());
  }
  if (!options.names.empty()) {
    if (options.names.size() != width) {
      ThrowInvalidArgument(src + ": " + std::to_string(options.names.size()) +
                           " column names given, but the file has " + std::to_string(width) +
                           " columns");
    }
    names = options.names;
  }
  std::set<std::string> used;
  for (size_t c = 0; c < width; ++c) {
    if (names[c].empty()) names[c] = "column_" + std::to_string(c + 1);
    if (!options.names.empty() && used.count(names[c])) {
      ThrowInvalidArgument(src + ": column name '" + names[c] + "' is given twice");
    }
    std::string base = names[c];
    for (int k = 1; used.count(names[c]); ++k) names[c] = base + "_" + std::to_string(k);
    used.insert(names[c]);
  }
  dialect.names = names;
  if (options.header) {
    for (size_t c = 0; c < width; ++c) wanted[c] = !options.column_types.contains(names[c]);
    guess_columns();
  }

  // 6. Types: from the data rows, then the caller's.
  size_t first_data = dialect.header ? 1 : 0;
  dialect.types.assign(width, DataType::kString);
  dialect.type_fixed.assign(width, false);
  std::vector<ColumnGuess> guess = rest_guess;
  if (first_data == 0) {
    std::vector<size_t> again;  // Columns whose guess over all rows takes a second pass.
    for (size_t c = 0; c < width; ++c) {
      if (all_guess[c]) {
        guess[c] = *all_guess[c];
      } else if (wanted[c]) {
        again.push_back(c);
      }
    }
    auto rescan = [&](size_t i) {
      guess[again[i]] =
          GuessColumns(s, again[i], again[i] + 1, 0, width, nulls, data_end)[0].Result();
    };
    if (options.threads == 1) {
      for (size_t i = 0; i < again.size(); ++i) rescan(i);
    } else {
      ThreadPool::Default().ParallelFor(again.size(), rescan);
    }
  }
  for (size_t c = 0; c < width; ++c) {
    const ColumnGuess& g = guess[c];
    DataType t = g.type;
    if (t == DataType::kString && options.infer_category && g.non_null >= 2 && g.distinct <= 4096 &&
        g.distinct * 2 <= g.non_null) {
      t = DataType::kCategory;
    }
    dialect.types[c] = t;
  }
  for (const auto& [name, type] : options.column_types) {
    auto it = std::find(names.begin(), names.end(), name);
    if (it == names.end()) {
      ThrowInvalidArgument(src + ": a type is given for column '" + name +
                           "', which the file does not have");
    }
    size_t c = static_cast<size_t>(it - names.begin());
    dialect.types[c] = type;
    dialect.type_fixed[c] = true;
  }
  return dialect;
}

}  // namespace mloop::table
