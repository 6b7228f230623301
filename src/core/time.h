// UTC time. A timestamp is an int64 count of microseconds since 1970-01-01T00:00:00Z;
// a date is an int64 count of days since 1970-01-01. Both are what Table columns of
// type timestamp and date hold. All functions are pure and thread-safe.
#ifndef MLOOP_CORE_TIME_H_
#define MLOOP_CORE_TIME_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace mloop {

inline constexpr int64_t kMicrosPerSecond = 1'000'000;
inline constexpr int64_t kMicrosPerDay = 86'400 * kMicrosPerSecond;

int64_t NowMicros();

// Days since the epoch for a proleptic Gregorian date (Howard Hinnant's algorithm).
int64_t DaysFromCivil(int64_t year, unsigned month, unsigned day);

// Parses an ISO 8601 date "YYYY-MM-DD". nullopt when `text` is not exactly that or the
// date does not exist (2023-02-30).
std::optional<int64_t> ParseIsoDate(std::string_view text);

// Parses "YYYY-MM-DD[T| ]HH:MM[:SS[.fraction]][Z|±HH:MM|±HHMM]" into microseconds
// since the epoch, UTC (a missing zone means UTC). A bare date is not accepted here:
// ParseIsoDate is for that. nullopt on anything else.
std::optional<int64_t> ParseIsoTimestamp(std::string_view text);

// "2011-01-01".
std::string FormatIsoDate(int64_t days);
// "2026-11-26T08:22:13.123456Z"; the fraction is left out when it is zero.
std::string FormatIsoTimestamp(int64_t micros);

}  // namespace mloop

#endif  // MLOOP_CORE_TIME_H_
