fn main() -> std::process::ExitCode {
    git_release::cli::main_for("collect", git_release::commands::collect::run)
}
