#include "eval/resolve.h"

#include "core/error.h"

namespace mloop::eval {

Json ResolvedModel::Describe() const {
  const model::LoadedModel& m = run.model;
  Json j = {{"ref", ref},
            {"run_id", run.run_id},
            {"bundle", run.bundle_digest},
            {"task", m.task()},
            {"estimator", m.estimator_type()},
            {"classes", m.classes()},
            {"features", m.num_features()},
            {"lineage", m.bundle().value("lineage", Json())}};
  if (version) {
    j["registered"] = {{"name", version->name}, {"version", version->version}};
  }
  return j;
}

ResolvedModel ResolveModel(store::Workspace& ws, const std::string& ref, const std::string& what) {
  std::optional<registry::ModelVersion> version;
  std::string run = ref;
  try {
    if (ref.find('@') != std::string::npos) {
      registry::ModelRegistry reg(ws.metadata(), ws.artifacts(), ws.root());
      version = reg.Resolve(registry::ParseModelRef(ref));
      run = version->run_id;
    }
  } catch (const Error& e) {
    throw Error(e.code(), what + " " + ref + ": " + e.what());
  }
  ResolvedModel r{ref,
                  std::move(version),
                  [&] {
                    try {
                      return train::LoadRunModel(ws, run);
                    } catch (const Error& e) {
                      throw Error(e.code(), what + " " + ref + ": " + e.what());
                    }
                  }(),
                  {}};
  r.estimator_bytes =
      ws.artifacts().Get(r.run.model.bundle()["estimator"]["artifact"].get<std::string>());
  return r;
}

}  // namespace mloop::eval
