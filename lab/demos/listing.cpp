#include "listing.hpp"

#include <fmt/core.h>

#include <nlohmann/json.hpp>

#include "demo.hpp"

namespace lab::demos {

void list_for_lab() {
  for (const auto& [name, d] : registry())
    channel().send(protocol::demo_listed{d.name, d.summary, params_help(d.params), d.limits});
}

void list_for_people(std::ostream& out) {
  for (const auto& [name, d] : registry()) {
    out << fmt::format("{:<22} {}\n", d.name, d.summary);
    if (!d.params.empty()) out << fmt::format("{:<22} {}\n", "", params_help(d.params));
  }
}

void list_as_json(std::ostream& out) {
  auto demos = nlohmann::json::array();
  for (const auto& [name, d] : registry()) {
    auto specs = nlohmann::json::array();
    for (const param_spec& spec : d.params)
      specs.push_back({{"name", spec.name},
                       {"kind", kind_name(spec.kind)},
                       {"default", spec.fallback},
                       {"has_default", spec.has_default},
                       {"min", spec.range.min},
                       {"max", spec.range.max},
                       {"max_values", spec.max_values}});
    demos.push_back({{"name", d.name},
                     {"summary", d.summary},
                     {"params_help", params_help(d.params)},
                     {"params", specs}});
  }
  out << demos.dump(2) << "\n";
}

}  // namespace lab::demos
