// The model card: an evaluation report (evaluate.h) as one self-contained HTML page (no
// external assets, no script) that a reviewer reads before a promotion: the decision, intended
// use, training data and lineage, metrics per evaluation set against the champion with
// bootstrap intervals and paired tests, the fairness table, slices, top features by mean
// |SHAP|, latency and cost, every gate with its observed value, and limitations (those given
// and those the numbers show). Text from the report is escaped. Deterministic: the same report
// gives the same bytes.
#ifndef MLOOP_EVAL_MODEL_CARD_H_
#define MLOOP_EVAL_MODEL_CARD_H_

#include <string>

#include "core/json.h"

namespace mloop::eval {

std::string RenderModelCard(const Json& report);

}  // namespace mloop::eval

#endif  // MLOOP_EVAL_MODEL_CARD_H_
