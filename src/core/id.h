// Identifiers for runs, ingestions and other records: 32 lowercase hex characters from
// 128 random bits, the same shape as MLflow's run ids. Thread-safe.
#ifndef MLOOP_CORE_ID_H_
#define MLOOP_CORE_ID_H_

#include <string>

namespace mloop {

std::string NewId();

}  // namespace mloop

#endif  // MLOOP_CORE_ID_H_
