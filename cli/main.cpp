// editgate: regression tests for edited language models. This file only parses
// arguments, dispatches, and turns exceptions into the documented exit codes.

#include <c10/util/Exception.h>

#include <iostream>

#include "cli/commands.h"
#include "harness/input_error.h"
#include "harness/interrupt.h"

int main(int argc, char** argv) {
  using namespace editgate::cli;
  editgate::install_interrupt_handler();  // before any thread starts: Ctrl-C -> exit 130, no partial output
  CLI::App app{
      "editgate: apply a model edit (ROME, MEMIT, LEACE, ...), test what it changed, and gate the release.\n"
      "Exit codes: 0 success or pass, 1 a gate failed, 2 bad input or usage, 3 internal error."};
  app.require_subcommand(1);
  app.set_version_flag("--version", "editgate 0.1.0");
  int exit_code = kExitOk;
  register_model_commands(app, exit_code);
  register_erasure_commands(app, exit_code);
  register_edit_commands(app, exit_code);
  register_fixture_commands(app, exit_code);
  register_gate_commands(app, exit_code);
  register_demo_command(app, exit_code);
  register_debug_command(app, exit_code);
  register_steer_command(app, exit_code);
  register_mend_command(app, exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "editgate: error: " << e.what() << " (see --help)\n";
    return kExitBadInput;
  } catch (const editgate::InputError& e) {
    std::cerr << "editgate: error: " << e.what() << "\n";
    return kExitBadInput;
  } catch (const c10::Error& e) {
    std::cerr << "editgate: internal error: " << e.what_without_backtrace() << "\n";
    return kExitInternal;
  } catch (const std::exception& e) {
    std::cerr << "editgate: internal error: " << e.what() << "\n";
    return kExitInternal;
  }
  return exit_code;
}
