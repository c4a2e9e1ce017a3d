// `lab-demos --list`: every registered demo with its summary and parameters,
// in the form its reader wants.
#pragma once

#include <ostream>

namespace lab::demos {

// To lab: one protocol::demo_listed event per demo on the result channel
// (its params text is params_help: every parameter with range and default).
void list_for_lab();

// To a person: each demo's name and summary, then its parameters.
void list_for_people(std::ostream& out);

// For tests and tools (`lab-demos --list --json`): a JSON array with, for each
// demo, its name, summary, params_help and declared parameters (name, kind,
// default, has_default, min, max, max_values).
void list_as_json(std::ostream& out);

}  // namespace lab::demos
