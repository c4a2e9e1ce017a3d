// `lab-demos --serve NAME key=value ...`: one demo server in the foreground,
// for the student's own clients (what `lab serve` runs in its box), and
// `lab-demos --servers`: the servers there are.
#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace lab::demos {

// Runs the server `name` with the key=value words `words` until it is
// killed. Returns an exit code: 2 for a name or a value it cannot take, 1 if
// the server could not start or failed.
int serve_in_foreground(const std::string& name, const std::vector<std::string>& words);

// To lab: one protocol::demo_listed event per server (its parameters with
// their ranges, its box's limits). To a person: as text.
void list_servers_for_lab();
void list_servers_for_people(std::ostream& out);

}  // namespace lab::demos
