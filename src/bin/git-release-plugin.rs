fn main() -> std::process::ExitCode {
    git_release::cli::main_for("plugin", git_release::commands::plugin::run)
}
