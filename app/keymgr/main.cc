// keycast-keymgr: the key manager. Serves keys (default), prepares a state
// directory (init), lists accounts (accounts), or replaces the KEK
// (rotate-kek).
#include <CLI/CLI.hpp>

#include "accounts_cli.h"
#include "rotate_kek_cli.h"
#include "serve.h"

int main(int argc, char** argv) {
  CLI::App app{"keycast-keymgr: makes, keeps and serves keycast keys (keymgr-protocol.md), keeps accounts"};
  app.require_subcommand(0, 1);
  app.footer(
      "Serve: keycast-keymgr --config FILE --state-dir DIR (prepare DIR once with `init`).\n"
      "Prints 'listening on HOST:PORT' when ready; SIGINT/SIGTERM stop it and print its counters.\n"
      "Exit codes: 0 stopped cleanly, 1 could not start (store, KEK, permissions, ports) or stopped because the disk failed "
      "a sync of the key store, 2 bad command line or config.");
  std::string config, state_dir;
  app.add_option("--config", config, "TOML configuration (see config/keymgr-lab.toml)")->check(CLI::ExistingFile);
  app.add_option("--state-dir", state_dir, "state directory: keys.db, KEK (mode 0700)");

  auto* init = app.add_subcommand("init", "create the state directory (0700) and the KEK file (0600) where missing");
  std::string init_config, init_state;
  init->add_option("--config", init_config, "TOML configuration")->required()->check(CLI::ExistingFile);
  init->add_option("--state-dir", init_state, "state directory")->required();

  auto* accounts = app.add_subcommand("accounts", "list key requests, packets and bytes per hour, peer and channel");
  keymgr::AccountsQuery q;
  accounts->add_option("--state-dir", q.state_dirs,
                       "state directory of the key manager; repeat it for the replicas of a master to list their "
                       "accounts together (a key fetched from one and its usage reported to another still meet)")
      ->required();
  accounts->add_option("--peer", q.peer, "only this peer");
  accounts->add_option("--channel", q.channel, "only this channel");
  accounts->add_option("--from", q.from, "from this time: Unix ms or YYYY-MM-DDTHH:MM[:SS]Z");
  accounts->add_option("--to", q.to, "up to this time (exclusive), same forms");
  accounts->add_option("--format", q.format, "csv (default) or json")->check(CLI::IsMember({"csv", "json"}));

  auto* rotate = app.add_subcommand(
      "rotate-kek",
      "with the key manager stopped: write a new random KEK, re-wrap every stored key under it in one "
      "transaction, then replace the KEK file (back up the state directory and the KEK first)");
  std::string rotate_config, rotate_state;
  rotate->add_option("--config", rotate_config, "TOML configuration (names kek_file)")->required()->check(CLI::ExistingFile);
  rotate->add_option("--state-dir", rotate_state, "state directory")->required();
  rotate->footer(
      "Refused while a keycast-keymgr serves the state directory. Prints how many keys were re-wrapped.\n"
      "Crash-safe: the next start of keycast-keymgr finishes or undoes an interrupted rotation.\n"
      "Exit codes: 0 done, 1 refused or failed (the old KEK still applies unless it says otherwise), 2 bad config.");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);  // prints help, or the error
    return rc == 0 ? 0 : 2;      // a bad command line is exit 2, as --help says
  }
  if (*init) return keymgr::init_state(init_config, init_state);
  if (*accounts) return keymgr::list_accounts(q);
  if (*rotate) return keymgr::rotate_kek_command(rotate_config, rotate_state);
  if (config.empty() || state_dir.empty()) {
    std::cerr << "keycast-keymgr: serving needs --config FILE and --state-dir DIR (see --help)\n";
    return 2;
  }
  return keymgr::serve(config, state_dir);
}
