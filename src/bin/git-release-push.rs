fn main() -> std::process::ExitCode {
    git_release::cli::main_for("push", git_release::commands::push::run)
}
