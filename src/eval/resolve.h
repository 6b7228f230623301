// A model named the way users name models: a run id (or a unique prefix of 6+ characters),
// NAME@VERSION, NAME@ALIAS or NAME@latest of the registry. Resolves it to the run whose bundle
// holds the model, and loads that bundle.
//
// Errors (mloop::Error): not_found for an unknown run, model, version or alias, with `what`
// and the ref in front of the message ("--model income@9: ..."); what loading throws.
#ifndef MLOOP_EVAL_RESOLVE_H_
#define MLOOP_EVAL_RESOLVE_H_

#include <optional>
#include <string>

#include "core/json.h"
#include "registry/model_registry.h"
#include "store/workspace.h"
#include "train/predict.h"

namespace mloop::eval {

struct ResolvedModel {
  std::string ref;                                // As given.
  std::optional<registry::ModelVersion> version;  // When it was named through the registry.
  train::RunModel run;
  std::string estimator_bytes;  // The estimator's file (XGBoost UBJSON, linear JSON).

  // {ref, run_id, bundle, task, estimator, classes, features, lineage[, registered]}
  Json Describe() const;
};

ResolvedModel ResolveModel(store::Workspace& workspace, const std::string& ref,
                           const std::string& what);

}  // namespace mloop::eval

#endif  // MLOOP_EVAL_RESOLVE_H_
