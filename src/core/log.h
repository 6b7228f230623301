// Logging with levels, to stderr. The level comes from MLOOP_LOG (debug, info, warn,
// error; default warn) or SetLogLevel. Thread-safe: each message is one write.
#ifndef MLOOP_CORE_LOG_H_
#define MLOOP_CORE_LOG_H_

#include <string_view>

namespace mloop {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

void SetLogLevel(LogLevel level);
LogLevel CurrentLogLevel();
void Log(LogLevel level, std::string_view message);

inline void LogDebug(std::string_view m) { Log(LogLevel::kDebug, m); }
inline void LogInfo(std::string_view m) { Log(LogLevel::kInfo, m); }
inline void LogWarn(std::string_view m) { Log(LogLevel::kWarn, m); }
inline void LogError(std::string_view m) { Log(LogLevel::kError, m); }

}  // namespace mloop

#endif  // MLOOP_CORE_LOG_H_
