//! lecteurd as a Windows service (the `windows-service` crate):
//! `lecteurd service install [OPTIONS...]` creates it (own process, started
//! at boot, LocalSystem, restarted when it fails) with these daemon options;
//! `lecteurd service uninstall` stops and deletes it; `lecteurd service run
//! [OPTIONS...]` is what the service manager starts: it reports the states,
//! and Stop or Shutdown stop the daemon as ctrl-c does in a console.
//!
//! No dependency on SCardSvr: Windows starts the smart-card service on
//! demand (when a reader is plugged in) and stops it when the last reader
//! goes; as a dependency it would be forced up at boot, and lecteurd would
//! not start at all where it is disabled, though COM-port readers need no
//! PC/SC. The PC/SC transport copes with a resource manager that comes and
//! goes.
//!
//! Wine's service manager runs it (scripts/windows-service-smoke); what
//! Wine does not have (failure actions, a real event log, session 0) is in
//! docs/windows.md's test plan for Windows.

use crate::{eventlog, run};
use clap::{Parser, Subcommand};
use lecteur::cli::LecteurdArgs;
use std::ffi::{OsStr, OsString};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Notify;
use windows_service::service::{
    ServiceAccess, ServiceAction, ServiceActionType, ServiceControl, ServiceControlAccept,
    ServiceErrorControl, ServiceExitCode, ServiceFailureActions, ServiceFailureResetPeriod, ServiceInfo,
    ServiceStartType, ServiceState, ServiceStatus, ServiceType,
};
use windows_service::service_control_handler::{self, ServiceControlHandlerResult, ServiceStatusHandle};
use windows_service::service_dispatcher;
use windows_service::service_manager::{ServiceManager, ServiceManagerAccess};

/// The service's name (`sc query lecteurd`, `Start-Service lecteurd`).
const NAME: &str = "lecteurd";
const DISPLAY_NAME: &str = "lecteur smart-card daemon";
const DESCRIPTION: &str = "Reads French health smart cards (CPS, carte Vitale) for practice software: \
                           the JSON-RPC API on the named pipe \\\\.\\pipe\\lecteur.";

#[derive(Parser)]
#[command(name = "lecteurd service", about = "lecteurd as a Windows service")]
struct Cli {
    #[command(subcommand)]
    action: Action,
}

#[derive(Subcommand)]
enum Action {
    /// Create the service (as administrator): started at boot as LocalSystem,
    /// restarted when it fails, running lecteurd with these options.
    Install {
        /// lecteurd's options for the service, e.g. `--serial COM3 --no-pcsc`.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true, value_name = "OPTIONS")]
        options: Vec<OsString>,
    },
    /// Stop the service and delete it (as administrator).
    Uninstall,
    /// What the service manager runs: lecteurd under its control.
    Run {
        /// lecteurd's options.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true, value_name = "OPTIONS")]
        options: Vec<OsString>,
    },
}

/// What went wrong installing or removing the service.
#[derive(Debug, thiserror::Error)]
enum ServiceError {
    /// A call to the service manager failed (often: not an administrator).
    #[error("service manager: {0}{cause}", cause = cause(.0))]
    Manager(#[from] windows_service::Error),
    /// The event source could not be registered.
    #[error("event log source: {0}")]
    EventLog(#[from] ::eventlog::Error),
    /// Finding lecteurd.exe or removing the event source.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// The service did not stop in time.
    #[error("the service did not stop within {0:?}")]
    StopTimeout(Duration),
}

/// windows-service says "IO error in winapi call" and keeps the Windows error below.
fn cause(e: &windows_service::Error) -> String {
    std::error::Error::source(e).map_or_else(String::new, |s| format!(" ({s})"))
}

/// `lecteurd service ...`: `None` when the command line is not one.
pub(crate) fn command() -> Option<ExitCode> {
    let args: Vec<OsString> = std::env::args_os().collect();
    if args.get(1).is_none_or(|a| a != "service") {
        return None;
    }
    let cli = Cli::parse_from(&args[1..]);
    let done = match cli.action {
        Action::Install { options } => {
            // Refused now rather than at every start of the service.
            if let Err(e) = daemon_args(&options) {
                let _ = e.print();
                return Some(ExitCode::from(2));
            }
            install(options)
        }
        Action::Uninstall => uninstall(),
        Action::Run { .. } => return Some(dispatch()),
    };
    Some(match done {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("lecteurd service: {e}");
            ExitCode::FAILURE
        }
    })
}

fn daemon_args(options: &[OsString]) -> Result<LecteurdArgs, clap::Error> {
    LecteurdArgs::try_parse_from(
        std::iter::once(OsStr::new("lecteurd")).chain(options.iter().map(OsString::as_os_str)),
    )
}

fn install(options: Vec<OsString>) -> Result<(), ServiceError> {
    let manager = ServiceManager::local_computer(
        None::<&str>,
        ServiceManagerAccess::CONNECT | ServiceManagerAccess::CREATE_SERVICE,
    )?;
    let mut launch_arguments: Vec<OsString> = vec!["service".into(), "run".into()];
    launch_arguments.extend(options);
    let info = ServiceInfo {
        name: NAME.into(),
        display_name: DISPLAY_NAME.into(),
        service_type: ServiceType::OWN_PROCESS,
        start_type: ServiceStartType::AutoStart,
        error_control: ServiceErrorControl::Normal,
        executable_path: std::env::current_exe()?,
        launch_arguments,
        dependencies: vec![],
        account_name: None, // LocalSystem
        account_password: None,
    };
    let service = manager.create_service(&info, ServiceAccess::CHANGE_CONFIG)?;
    service.set_description(DESCRIPTION)?;
    // Restart after 5 s, 30 s, then every 5 min; the count resets after a
    // day without failure. A run that stops with an error (a bad
    // configuration) counts as a failure too.
    let restart = |secs| ServiceAction {
        action_type: ServiceActionType::Restart,
        delay: Duration::from_secs(secs),
    };
    let restart_on_failure = service
        .update_failure_actions(ServiceFailureActions {
            reset_period: ServiceFailureResetPeriod::After(Duration::from_secs(24 * 3600)),
            reboot_msg: None,
            command: None,
            actions: Some(vec![restart(5), restart(30), restart(300)]),
        })
        .and_then(|()| service.set_failure_actions_on_non_crash_failures(true));
    // The service runs without it: say so, and leave it installed (Wine 8's
    // service manager, for one, knows no failure actions).
    if let Err(e) = restart_on_failure {
        eprintln!(
            "lecteurd service: warning: restart on failure not set: {e}{}",
            cause(&e)
        );
    }
    eventlog::register()?;
    println!("service {NAME} installed; start it with `Start-Service {NAME}`");
    Ok(())
}

fn uninstall() -> Result<(), ServiceError> {
    let manager = ServiceManager::local_computer(None::<&str>, ServiceManagerAccess::CONNECT)?;
    let service = manager.open_service(
        NAME,
        ServiceAccess::QUERY_STATUS | ServiceAccess::STOP | ServiceAccess::DELETE,
    )?;
    if service.query_status()?.current_state != ServiceState::Stopped {
        service.stop()?;
        let limit = Duration::from_secs(30);
        let since = Instant::now();
        while service.query_status()?.current_state != ServiceState::Stopped {
            if since.elapsed() > limit {
                return Err(ServiceError::StopTimeout(limit));
            }
            std::thread::sleep(Duration::from_millis(250));
        }
    }
    service.delete()?;
    drop(service);
    eventlog::deregister()?;
    println!("service {NAME} removed");
    Ok(())
}

windows_service::define_windows_service!(ffi_service_main, service_main);

fn dispatch() -> ExitCode {
    // Blocks until the service stops; fails at once outside the service manager.
    match service_dispatcher::start(NAME, ffi_service_main) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!(
                "lecteurd service run: not started by the service manager: {e}{}; in a console, run `lecteurd` itself",
                cause(&e)
            );
            ExitCode::FAILURE
        }
    }
}

/// The service's thread. Its options are the launch arguments given at
/// install (`lecteurd service run OPTIONS`), not those of a `Start-Service`.
fn service_main(_start_arguments: Vec<OsString>) {
    let log = eventlog::open();
    let stop = Arc::new(Notify::new());
    let stop_handler = stop.clone();
    let handler = move |control| match control {
        ServiceControl::Stop | ServiceControl::Shutdown => {
            // A permit: the daemon sees it even if it is not waiting yet.
            stop_handler.notify_one();
            ServiceControlHandlerResult::NoError
        }
        // The manager asks for the state: the last one reported is the answer.
        ServiceControl::Interrogate => ServiceControlHandlerResult::NoError,
        _ => ServiceControlHandlerResult::NotImplemented,
    };
    let status = match service_control_handler::register(NAME, handler) {
        Ok(s) => s,
        Err(e) => {
            if let Some(log) = &log {
                log.error(&format!("lecteurd: service control handler: {e}{}", cause(&e)));
            }
            return;
        }
    };
    report(status, ServiceState::StartPending, ServiceExitCode::Win32(0));
    let failed = |e: &dyn std::fmt::Display| {
        if let Some(log) = &log {
            log.error(&format!("lecteurd: {e}"));
        }
        report(status, ServiceState::Stopped, ServiceExitCode::ServiceSpecific(1));
    };
    let options: Vec<OsString> = std::env::args_os().skip(3).collect();
    let args = match daemon_args(&options) {
        Ok(a) => a,
        Err(e) => return failed(&e),
    };
    let settings = match run::Settings::from(args) {
        Ok(s) => s,
        Err(e) => return failed(&e),
    };
    match log {
        Some(log) => run::init_log(&settings.log, log, false, false),
        None => run::init_log(&settings.log, std::io::stderr, false, true),
    }
    let stopped = async {
        stop.notified().await;
        report(status, ServiceState::StopPending, ServiceExitCode::Win32(0));
    };
    let ready = || report(status, ServiceState::Running, ServiceExitCode::Win32(0));
    match run::serve(settings.config, stopped, ready) {
        Ok(()) => report(status, ServiceState::Stopped, ServiceExitCode::Win32(0)),
        Err(e) => {
            tracing::error!("lecteurd: {e}");
            report(status, ServiceState::Stopped, ServiceExitCode::ServiceSpecific(1));
        }
    }
}

fn report(status: ServiceStatusHandle, state: ServiceState, exit_code: ServiceExitCode) {
    let (controls_accepted, checkpoint, wait_hint) = match state {
        ServiceState::Running => (
            ServiceControlAccept::STOP | ServiceControlAccept::SHUTDOWN,
            0,
            Duration::ZERO,
        ),
        ServiceState::StartPending | ServiceState::StopPending => {
            (ServiceControlAccept::empty(), 1, Duration::from_secs(15))
        }
        _ => (ServiceControlAccept::empty(), 0, Duration::ZERO),
    };
    // Nothing to do if the manager refuses a status: it then treats the
    // service as hung, and its failure actions restart it.
    let _ = status.set_service_status(ServiceStatus {
        service_type: ServiceType::OWN_PROCESS,
        current_state: state,
        controls_accepted,
        exit_code,
        checkpoint,
        wait_hint,
        process_id: None,
    });
}
