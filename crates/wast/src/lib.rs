//! Runs WebAssembly script (`.wast`) files on Tern's engine: the format of
//! the official specification testsuite.
//!
//! Every directive the testsuite uses is supported. A directive that
//! expects a failure passes when the module is refused at the stage it
//! names (parse or decode for `assert_malformed`, validation for
//! `assert_invalid`, linking for `assert_unlinkable`, instantiation for
//! `assert_uninstantiable`); the reference interpreter's message text need
//! not match.
//!
//! ```
//! let report = tern_wast::run_str("inline.wast", r#"
//!     (module (func (export "two") (result i32) (i32.const 2)))
//!     (assert_return (invoke "two") (i32.const 2))
//!     (assert_invalid (module (func (result i32))) "type mismatch")
//! "#, &tern_engine::Config::default()).unwrap();
//! assert_eq!((report.passed, report.failures.len()), (3, 0));
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod component;
mod spectest;
mod values;

use anyhow::{Context, Result, anyhow, bail};
use std::collections::HashMap;
use std::fmt;
use std::path::Path;
use tern_engine::{Config, Engine, ErrorKind, Instance, Linker, Module, Store, TrapCode, Val};
use values::ExternRefs;
use wast::core::WastRetCore;
use wast::parser::{self, ParseBuffer};
use wast::{QuoteWat, Wast, WastDirective, WastExecute, WastInvoke, Wat};

/// A directive that did not do what the script expected.
#[derive(Debug, Clone)]
pub struct Failure {
    /// `file:line:col` of the directive.
    pub location: String,
    /// What was expected and what happened.
    pub message: String,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.location, self.message)
    }
}

/// The outcome of one script.
#[derive(Debug, Default)]
pub struct Report {
    /// Directives that behaved as expected.
    pub passed: usize,
    /// Directives that did not.
    pub failures: Vec<Failure>,
}

/// Runs the script in file `path`.
///
/// # Errors
///
/// When the file cannot be read or is not a well-formed script; failed
/// directives are reported in the [`Report`] instead.
pub fn run_file(path: impl AsRef<Path>, config: &Config) -> Result<Report> {
    let path = path.as_ref();
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("failed to read {}", path.display()))?;
    run_str(&path.display().to_string(), &text, config)
}

/// Runs the script `text`, naming it `name` in messages.
///
/// # Errors
///
/// When `text` is not a well-formed script.
pub fn run_str(name: &str, text: &str, config: &Config) -> Result<Report> {
    let mut lexer = wast::lexer::Lexer::new(text);
    // The testsuite's `names.wast` uses bidirectional-override characters on
    // purpose.
    lexer.allow_confusing_unicode(true);
    let buf = ParseBuffer::new_with_lexer(lexer).map_err(|mut e| {
        e.set_text(text);
        e.set_path(Path::new(name));
        anyhow!("{e}")
    })?;
    let wast = parser::parse::<Wast<'_>>(&buf).map_err(|mut e| {
        e.set_text(text);
        e.set_path(Path::new(name));
        anyhow!("{e}")
    })?;
    let mut runner = Runner::new(config)?;
    let mut report = Report::default();
    for directive in wast.directives {
        let (line, col) = directive.span().linecol_in(text);
        match runner.directive(directive) {
            Ok(()) => report.passed += 1,
            Err(e) => report.failures.push(Failure {
                location: format!("{name}:{}:{}", line + 1, col + 1),
                message: format!("{e:#}"),
            }),
        }
    }
    Ok(report)
}

/// Why a module was refused, and at which stage.
#[derive(Debug)]
struct Refusal {
    kind: ErrorKind,
    message: String,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// What an invocation returned: core values, or a component function's
/// values.
enum Outcome {
    Core(Vec<Val>),
    Component(Vec<tern_component::Val>),
}

impl Outcome {
    fn show(&self) -> String {
        match self {
            Outcome::Core(vals) => vals.iter().map(values::show).collect::<Vec<_>>().join(", "),
            Outcome::Component(vals) => format!("{vals:?}"),
        }
    }
}

struct Runner {
    store: Store<()>,
    linker: Linker<()>,
    components: tern_component::Linker<()>,
    engine: Engine,
    current: Option<Instance>,
    named: HashMap<String, Instance>,
    /// The latest component instance, when the latest directive made one.
    current_component: Option<tern_component::Instance>,
    named_components: HashMap<String, tern_component::Instance>,
    definitions: HashMap<String, Module>,
    externs: ExternRefs,
}

/// Whether a script module is a component.
fn is_component(module: &QuoteWat<'_>) -> bool {
    matches!(
        module,
        QuoteWat::Wat(Wat::Component(_)) | QuoteWat::QuoteComponent(..)
    )
}

/// Which stage refused a module.
fn stage(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::Parse => "parse",
        ErrorKind::Malformed => "decode",
        ErrorKind::Invalid => "validate",
        ErrorKind::Unsupported => "unsupported feature",
        ErrorKind::Link => "link",
        ErrorKind::Trap => "instantiate (trap)",
        _ => "instantiate",
    }
}

impl Runner {
    fn new(config: &Config) -> Result<Self> {
        let engine = Engine::new(config);
        let mut store = Store::new(&engine, ());
        let mut linker = Linker::new(&engine);
        spectest::define(&mut linker, &mut store)?;
        Ok(Self {
            store,
            linker,
            components: tern_component::Linker::new(&engine),
            engine,
            current: None,
            named: HashMap::new(),
            current_component: None,
            named_components: HashMap::new(),
            definitions: HashMap::new(),
            externs: ExternRefs::default(),
        })
    }

    /// Compiles a script module; a refusal names its stage.
    fn compile(&self, module: &mut QuoteWat<'_>) -> Result<Module, Refusal> {
        let bytes = module.encode().map_err(|e| Refusal {
            kind: ErrorKind::Parse,
            message: format!("failed to parse text: {e}"),
        })?;
        Module::from_binary(&self.engine, &bytes).map_err(|e| Refusal {
            kind: e.kind(),
            message: e.to_string(),
        })
    }

    /// Compiles a script component; a refusal names its stage.
    fn compile_component(
        &self,
        component: &mut QuoteWat<'_>,
    ) -> Result<tern_component::Component, Refusal> {
        let bytes = component.encode().map_err(|e| Refusal {
            kind: ErrorKind::Parse,
            message: format!("failed to parse text: {e}"),
        })?;
        tern_component::Component::from_binary(&self.engine, &bytes).map_err(|e| Refusal {
            kind: e.kind(),
            message: e.to_string(),
        })
    }

    /// Compiles a script module or component, whichever it is, only to
    /// see whether it is refused.
    fn check(&self, module: &mut QuoteWat<'_>) -> Result<(), Refusal> {
        if is_component(module) {
            self.compile_component(module).map(drop)
        } else {
            self.compile(module).map(drop)
        }
    }

    fn instantiate(&mut self, module: &Module) -> Result<Instance, tern_engine::Error> {
        self.linker.instantiate(&mut self.store, module)
    }

    fn instance(&self, id: Option<wast::token::Id<'_>>) -> Result<Instance> {
        match id {
            Some(id) => self
                .named
                .get(id.name())
                .copied()
                .ok_or_else(|| anyhow!("no module named ${}", id.name())),
            None => self
                .current
                .ok_or_else(|| anyhow!("no module instantiated yet")),
        }
    }

    fn module_id<'a>(module: &QuoteWat<'a>) -> Option<&'a str> {
        match module {
            QuoteWat::Wat(Wat::Module(m)) => m.id.map(|id| id.name()),
            QuoteWat::Wat(Wat::Component(c)) => c.id.map(|id| id.name()),
            _ => None,
        }
    }

    /// The component instance `id` names, or the current one when the
    /// latest instance is a component's.
    fn component_instance(
        &self,
        id: Option<wast::token::Id<'_>>,
    ) -> Option<tern_component::Instance> {
        match id {
            Some(id) => self.named_components.get(id.name()).cloned(),
            None => self.current_component.clone(),
        }
    }

    fn invoke(&mut self, invoke: &WastInvoke<'_>) -> Result<Result<Outcome, tern_engine::Error>> {
        if let Some(instance) = self.component_instance(invoke.module) {
            return self.invoke_component(&instance, invoke);
        }
        Ok(self.invoke_core(invoke)?.map(Outcome::Core))
    }

    fn invoke_component(
        &mut self,
        instance: &tern_component::Instance,
        invoke: &WastInvoke<'_>,
    ) -> Result<Result<Outcome, tern_engine::Error>> {
        let func = instance
            .get_func(invoke.name)
            .ok_or_else(|| anyhow!("no component function export `{}`", invoke.name))?;
        let args = invoke
            .args
            .iter()
            .map(|a| match a {
                wast::WastArg::Component(v) => component::arg(v),
                wast::WastArg::Core(v) => component::core_arg(v),
                #[allow(unreachable_patterns)]
                _ => bail!("an unknown kind of argument"),
            })
            .collect::<Result<Vec<_>>>()?;
        let n = usize::from(func.ty().and_then(|t| t.result()).is_some());
        let mut results = vec![tern_component::Val::Bool(false); n];
        Ok(func
            .call(&mut self.store, &args, &mut results)
            .map(|()| Outcome::Component(results)))
    }

    fn invoke_core(
        &mut self,
        invoke: &WastInvoke<'_>,
    ) -> Result<Result<Vec<Val>, tern_engine::Error>> {
        let instance = self.instance(invoke.module)?;
        let func = instance
            .get_func(&mut self.store, invoke.name)
            .ok_or_else(|| anyhow!("no function export `{}`", invoke.name))?;
        let args = invoke
            .args
            .iter()
            .map(|a| values::arg(&mut self.store, &mut self.externs, a))
            .collect::<Result<Vec<_>>>()?;
        let ty = func.ty(&self.store);
        let mut results: Vec<Val> = ty.results().iter().map(|t| Val::default_for(*t)).collect();
        Ok(func
            .call(&mut self.store, &args, &mut results)
            .map(|()| results))
    }

    fn execute(
        &mut self,
        exec: &mut WastExecute<'_>,
    ) -> Result<Result<Outcome, tern_engine::Error>> {
        match exec {
            WastExecute::Invoke(invoke) => self.invoke(invoke),
            WastExecute::Wat(wat @ Wat::Component(_)) => {
                let bytes = wat.encode().context("failed to encode component")?;
                let component = tern_component::Component::from_binary(&self.engine, &bytes)
                    .map_err(|e| anyhow!("component failed to compile: {e}"))?;
                Ok(self
                    .components
                    .instantiate(&mut self.store, &component)
                    .map(|_| Outcome::Component(Vec::new())))
            }
            WastExecute::Wat(wat) => {
                let bytes = wat.encode().context("failed to encode module")?;
                let module = Module::from_binary(&self.engine, &bytes)
                    .map_err(|e| anyhow!("module failed to compile: {e}"))?;
                Ok(self.instantiate(&module).map(|_| Outcome::Core(Vec::new())))
            }
            WastExecute::Get { module, global, .. } => {
                let instance = self.instance(*module)?;
                let g = instance
                    .get_global(&mut self.store, global)
                    .ok_or_else(|| anyhow!("no global export `{global}`"))?;
                Ok(Ok(Outcome::Core(vec![g.get(&self.store)])))
            }
        }
    }

    fn directive(&mut self, directive: WastDirective<'_>) -> Result<()> {
        match directive {
            WastDirective::Module(mut module) if is_component(&module) => {
                let id = Self::module_id(&module);
                let component = self
                    .compile_component(&mut module)
                    .map_err(|e| anyhow!("component failed to compile: {e}"))?;
                let instance = self
                    .components
                    .instantiate(&mut self.store, &component)
                    .map_err(|e| anyhow!("component failed to instantiate: {e}"))?;
                self.current = None;
                if let Some(id) = id {
                    self.named_components
                        .insert(id.to_string(), instance.clone());
                }
                self.current_component = Some(instance);
            }
            WastDirective::Module(mut module) => {
                let id = Self::module_id(&module);
                self.current_component = None;
                let compiled = self
                    .compile(&mut module)
                    .map_err(|e| anyhow!("module failed to compile: {e}"))?;
                let instance = self
                    .instantiate(&compiled)
                    .map_err(|e| anyhow!("module failed to instantiate: {e}"))?;
                self.current = Some(instance);
                if let Some(id) = id {
                    self.named.insert(id.to_string(), instance);
                }
            }
            WastDirective::ModuleDefinition(mut module) => {
                let id = Self::module_id(&module);
                let compiled = self
                    .compile(&mut module)
                    .map_err(|e| anyhow!("module failed to compile: {e}"))?;
                if let Some(id) = id {
                    self.definitions.insert(id.to_string(), compiled);
                }
            }
            WastDirective::ModuleInstance {
                instance, module, ..
            } => {
                let name = module.map(|m| m.name()).unwrap_or_default();
                let compiled = self
                    .definitions
                    .get(name)
                    .cloned()
                    .ok_or_else(|| anyhow!("no module definition named ${name}"))?;
                let inst = self
                    .instantiate(&compiled)
                    .map_err(|e| anyhow!("module failed to instantiate: {e}"))?;
                self.current = Some(inst);
                if let Some(id) = instance {
                    self.named.insert(id.name().to_string(), inst);
                }
            }
            WastDirective::Register { name, module, .. } => {
                let instance = self.instance(module)?;
                self.linker.instance(&mut self.store, name, instance)?;
            }
            WastDirective::Invoke(invoke) => {
                self.invoke(&invoke)?
                    .map_err(|e| anyhow!("invocation failed: {e}"))?;
            }
            WastDirective::AssertReturn {
                mut exec, results, ..
            } => {
                let actual = match self
                    .execute(&mut exec)?
                    .map_err(|e| anyhow!("expected a return, got error: {e}"))?
                {
                    Outcome::Core(actual) => actual,
                    Outcome::Component(actual) => {
                        if actual.len() != results.len() {
                            bail!("expected {} results, got {}", results.len(), actual.len());
                        }
                        for (i, (v, e)) in actual.iter().zip(&results).enumerate() {
                            let ok = match e {
                                wast::WastRet::Component(e) => component::matches(e, v),
                                wast::WastRet::Core(e) => component::matches_core(e, v),
                                #[allow(unreachable_patterns)]
                                _ => false,
                            };
                            if !ok {
                                bail!("result {i}: expected {e:?}, got {v:?}");
                            }
                        }
                        return Ok(());
                    }
                };
                if actual.len() != results.len() {
                    bail!("expected {} results, got {}", results.len(), actual.len());
                }
                for (i, (v, e)) in actual.iter().zip(&results).enumerate() {
                    let e: &WastRetCore<'_> = values::expected(e)?;
                    if !values::matches(&self.store, v, e) {
                        bail!("result {i}: expected {e:?}, got {}", values::show(v));
                    }
                }
            }
            WastDirective::AssertTrap {
                mut exec, message, ..
            } => match self.execute(&mut exec)? {
                // Component scripts are Tern's own: their messages are
                // checked too.
                Err(e)
                    if self.current_component.is_some()
                        && e.kind() == ErrorKind::Trap
                        && !e.to_string().contains(message) =>
                {
                    bail!("expected trap `{message}`, got trap: {e}")
                }
                Ok(vals) => bail!("expected trap `{message}`, got return ({})", vals.show()),
                Err(e) if e.kind() == ErrorKind::Trap => {}
                Err(e) => bail!(
                    "expected trap `{message}`, got {} error: {e}",
                    stage(e.kind())
                ),
            },
            WastDirective::AssertExhaustion { call, message, .. } => match self.invoke(&call)? {
                Ok(_) => bail!("expected exhaustion `{message}`, got a return"),
                Err(e) if e.trap_code() == Some(TrapCode::StackOverflow) => {}
                Err(e) => bail!("expected exhaustion `{message}`, got: {e}"),
            },
            WastDirective::AssertMalformed {
                mut module,
                message,
                ..
            } => match self.check(&mut module) {
                Ok(_) => bail!("expected malformed module `{message}`, but it compiled"),
                Err(e) if matches!(e.kind, ErrorKind::Malformed | ErrorKind::Parse) => {}
                Err(e) => bail!(
                    "expected malformed module `{message}`, refused at {} stage: {e}",
                    stage(e.kind)
                ),
            },
            WastDirective::AssertInvalid {
                mut module,
                message,
                ..
            } => match self.check(&mut module) {
                Ok(_) => bail!("expected invalid module `{message}`, but it compiled"),
                Err(e) if e.kind == ErrorKind::Invalid => {}
                Err(e) => bail!(
                    "expected invalid module `{message}`, refused at {} stage: {e}",
                    stage(e.kind)
                ),
            },
            WastDirective::AssertUnlinkable {
                mut module,
                message,
                ..
            } => {
                let bytes = module.encode().context("failed to encode module")?;
                let compiled = Module::from_binary(&self.engine, &bytes)
                    .map_err(|e| anyhow!("module failed to compile: {e}"))?;
                match self.instantiate(&compiled) {
                    Ok(_) => bail!("expected unlinkable module `{message}`, but it instantiated"),
                    Err(e) if e.kind() == ErrorKind::Link => {}
                    Err(e) => bail!(
                        "expected unlinkable module `{message}`, refused at {} stage: {e}",
                        stage(e.kind())
                    ),
                }
            }
            other => bail!("unsupported directive: {other:?}"),
        }
        Ok(())
    }
}
