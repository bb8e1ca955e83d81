fn main() -> std::process::ExitCode {
    git_release::dispatch::main()
}
