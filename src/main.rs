fn main() -> std::process::ExitCode {
    anyray::run()
}
