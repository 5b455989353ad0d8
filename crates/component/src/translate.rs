//! Translation of a component binary, once at load: validation, the core
//! modules compiled, and the component's structure recorded as a flat list
//! of initializers that instantiation replays without re-reading the
//! binary.

use crate::abi::StringEncoding;
use crate::abi::layout::{self, Flat};
use crate::types::{FuncType, ResourceIndex, Type};
use std::collections::HashMap;
use std::sync::{Arc, OnceLock};
use tern_engine::{Engine, Error, ErrorKind, Module, ModuleExport, Result};
use wasmparser::component_types::{
    ComponentAnyTypeId, ComponentDefinedType, ComponentEntityType, ComponentFuncTypeId,
    ComponentInstanceTypeId, ComponentValType, ResourceId,
};
use wasmparser::types::TypesRef;
use wasmparser::{
    CanonicalFunction, CanonicalOption, ComponentAlias, ComponentExternalKind,
    ComponentOuterAliasKind, ComponentTypeRef, ExternalKind, Parser, Payload, PrimitiveValType,
    Validator, WasmFeatures,
};

/// A component's sorts of items, as its index spaces hold them.
#[derive(Debug, Copy, Clone, PartialEq, Eq)]
pub(crate) enum Sort {
    Func,
    Type,
    Instance,
    Component,
    Module,
}

/// Core sorts of items, in core instances.
#[derive(Debug, Copy, Clone, PartialEq, Eq)]
pub(crate) enum CoreSort {
    Func,
    Table,
    Memory,
    Global,
}

/// Where the resource types an item brings in are found within it: the
/// path of export names to each, and the number it gets.
pub(crate) type ResourcePaths = Vec<(Vec<String>, ResourceIndex)>;

/// Canonical options with core items still as indices.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StaticOptions {
    pub memory: Option<u32>,
    pub realloc: Option<u32>,
    pub post_return: Option<u32>,
    pub encoding: StringEncoding,
}

/// Where an item lies in a core instance, once an instantiation found it
/// by name. A core instance's shape (a bag of exports, or an instance of
/// a given module) follows from the translation alone, so the place holds
/// for every instance of it; for a module the component imports, the
/// export records which module it belongs to.
#[derive(Debug, Clone, Copy)]
pub(crate) enum CoreAt {
    /// A position in a bag of exports.
    Bag(u32),
    /// An export of an instantiated module.
    Export(ModuleExport),
}

/// Where each import of a core instantiation was found: the argument, and
/// the item's place in that argument's core instance.
pub(crate) type CoreArgs = Vec<(u32, CoreAt)>;

/// One step of instantiation.
#[derive(Debug)]
pub(crate) enum Init {
    /// An import, pushed to its sort's index space.
    Import {
        name: String,
        sort: Sort,
        resources: ResourcePaths,
        /// The functions the import must provide (itself, or inside it as
        /// an instance), by path, with their types.
        funcs: Vec<(Vec<String>, FuncType)>,
    },
    /// A core module of the translation (`modules[i]`).
    CoreModule(usize),
    CoreInstantiate {
        module: u32,
        args: Vec<(String, u32)>,
        /// Where the first instantiation found each import of the module,
        /// when it is one of the translation's own: the argument, and the
        /// item's place in that argument's core instance.
        found: OnceLock<(Module, CoreArgs)>,
    },
    CoreFromExports(Vec<(String, CoreSort, u32)>),
    CoreAlias {
        sort: CoreSort,
        instance: u32,
        name: String,
        /// Where the first instantiation found the item.
        found: OnceLock<CoreAt>,
    },
    /// A nested component of the translation (`components[i]`).
    Component(usize),
    Instantiate {
        component: u32,
        args: Vec<(String, Sort, u32)>,
        resources: ResourcePaths,
    },
    FromExports(Vec<(String, Sort, u32)>),
    Alias {
        sort: Sort,
        instance: u32,
        name: String,
        /// For a type, the resource it is, if it is one.
        resource: Option<ResourceIndex>,
    },
    OuterAlias {
        sort: Sort,
        count: u32,
        index: u32,
    },
    /// A type that is not a resource, or a resource already known.
    Type(Option<ResourceIndex>),
    DefineResource {
        resource: ResourceIndex,
        dtor: Option<u32>,
    },
    Lift {
        core_func: u32,
        ty: FuncType,
        options: StaticOptions,
    },
    Lower {
        func: u32,
        ty: Arc<FuncType>,
        options: StaticOptions,
        /// The core function's type, flattened from `ty` and registered
        /// with the engine once here rather than at every instantiation.
        core_ty: tern_engine::RegisteredFuncType,
        /// Its parameter and result counts.
        core_arity: (usize, usize),
    },
    ResourceNew(ResourceIndex),
    ResourceRep(ResourceIndex),
    ResourceDrop(ResourceIndex),
    Start {
        func: u32,
    },
    Export {
        name: String,
        sort: Sort,
        index: u32,
    },
}

/// A translated component.
#[derive(Debug)]
pub(crate) struct Translation {
    pub inits: Vec<Init>,
    pub modules: Vec<Module>,
    pub components: Vec<Arc<Translation>>,
    /// Import names and sorts, in order.
    pub imports: Vec<(String, Sort)>,
    /// Export names, sorts and (for functions) types, in order.
    pub exports: Vec<(String, Sort, Option<FuncType>)>,
    /// How many resource numbers the whole component tree uses (set on the
    /// root only).
    pub num_resources: u32,
}

/// The features components are validated with: Tern's core feature set and
/// the component model. Values are on for the start function, which
/// validation ties to them; value imports and exports themselves are
/// refused at translation as unsupported.
fn features() -> WasmFeatures {
    (WasmFeatures::WASM2 - WasmFeatures::SIMD)
        | WasmFeatures::EXTENDED_CONST
        | WasmFeatures::COMPONENT_MODEL
        | WasmFeatures::CM_VALUES
}

fn malformed(e: wasmparser::BinaryReaderError) -> Error {
    Error::new_kind(
        ErrorKind::Malformed,
        format!(
            "malformed component: {} (at offset {:#x})",
            e.message(),
            e.offset()
        ),
    )
}

fn invalid(e: wasmparser::BinaryReaderError) -> Error {
    let kind = if e.message().contains("SIMD support is not enabled") {
        ErrorKind::Unsupported
    } else {
        ErrorKind::Invalid
    };
    Error::new_kind(
        kind,
        format!(
            "invalid component: {} (at offset {:#x})",
            e.message(),
            e.offset()
        ),
    )
}

fn unsupported(what: &str, offset: u64) -> Error {
    Error::new_kind(
        ErrorKind::Unsupported,
        format!("{what} is not supported (at offset {offset:#x})"),
    )
}

/// One component being translated; nested ones stack.
#[derive(Default)]
struct Frame {
    inits: Vec<Init>,
    modules: Vec<Module>,
    components: Vec<Arc<Translation>>,
    imports: Vec<(String, Sort)>,
    exports: Vec<(String, Sort, Option<FuncType>)>,
}

/// The numbering of resource types across the whole component tree.
#[derive(Default)]
struct Resources {
    numbers: HashMap<ResourceId, ResourceIndex>,
}

impl Resources {
    fn number(&mut self, id: ResourceId) -> ResourceIndex {
        let next = self.numbers.len() as u32;
        *self.numbers.entry(id).or_insert(next)
    }
}

/// Validates and translates a component binary.
pub(crate) fn translate(engine: &Engine, bytes: &[u8]) -> Result<Translation> {
    let mut validator = Validator::new_with_features(features());
    let mut frames: Vec<Frame> = Vec::new();
    let mut resources = Resources::default();
    // The byte range of the core module being read, whose own payloads
    // only the validator looks at.
    let mut in_module: Option<std::ops::Range<usize>> = None;
    let mut done: Option<Translation> = None;

    for payload in Parser::new(0).parse_all(bytes) {
        let payload = payload.map_err(malformed)?;
        let before = match in_module {
            None => validator.types(0).map(Counts::of),
            Some(_) => None,
        };
        validator.payload(&payload).map_err(invalid)?;

        if let Some(range) = &in_module {
            if let Payload::End(_) = payload {
                let range = range.clone();
                in_module = None;
                let module = Module::from_binary(engine, &bytes[range.clone()]).map_err(|e| {
                    e.with_context(format!("core module at offset {:#x}", range.start))
                })?;
                let frame = frames.last_mut().expect("modules sit in components");
                let index = frame.modules.len();
                frame.modules.push(module);
                frame.inits.push(Init::CoreModule(index));
            }
            continue;
        }

        match payload {
            Payload::Version {
                encoding, range, ..
            } => {
                if encoding != wasmparser::Encoding::Component {
                    return Err(Error::new_kind(
                        ErrorKind::Invalid,
                        format!(
                            "expected a component, found a core module (at offset {:#x})",
                            range.start
                        ),
                    ));
                }
                frames.push(Frame::default());
            }
            Payload::ModuleSection {
                unchecked_range, ..
            } => {
                in_module = Some(unchecked_range.start as usize..unchecked_range.end as usize);
            }
            Payload::ComponentSection { .. } => {}
            Payload::End(_) => {
                let frame = frames.pop().expect("a component is open");
                let translation = Translation {
                    inits: frame.inits,
                    modules: frame.modules,
                    components: frame.components,
                    imports: frame.imports,
                    exports: frame.exports,
                    num_resources: 0,
                };
                match frames.last_mut() {
                    Some(parent) => {
                        let index = parent.components.len();
                        parent.components.push(Arc::new(translation));
                        parent.inits.push(Init::Component(index));
                    }
                    None => done = Some(translation),
                }
            }
            other => {
                let types = validator.types(0).expect("inside a component");
                let before = before.expect("inside a component");
                let frame = frames.last_mut().expect("inside a component");
                section(engine, frame, &mut resources, types, before, other)?;
            }
        }
    }
    let mut translation =
        done.ok_or_else(|| Error::new_kind(ErrorKind::Malformed, "empty component"))?;
    translation.num_resources = resources.numbers.len() as u32;
    Ok(translation)
}

/// The sizes of a component's index spaces before a section.
#[derive(Copy, Clone)]
struct Counts {
    funcs: u32,
    core_funcs: u32,
    types: u32,
    instances: u32,
}

impl Counts {
    fn of(types: TypesRef<'_>) -> Counts {
        Counts {
            funcs: types.component_function_count(),
            core_funcs: types.function_count(),
            types: types.component_type_count(),
            instances: types.component_instance_count(),
        }
    }
}

fn section(
    engine: &Engine,
    frame: &mut Frame,
    resources: &mut Resources,
    types: TypesRef<'_>,
    mut next: Counts,
    payload: Payload<'_>,
) -> Result<()> {
    match payload {
        Payload::ComponentImportSection(s) => {
            for import in s.into_iter_with_offsets() {
                let (offset, import) = import.map_err(malformed)?;
                if let ComponentTypeRef::Value(_) = import.ty {
                    return Err(unsupported("component value imports are", offset));
                }
                let name = import.name.full_name().into_owned();
                let sort = sort_of_ref(&import.ty);
                if let ComponentTypeRef::Type(wasmparser::TypeBounds::Eq(_)) = import.ty {
                    // A type equal to one the component already has: the
                    // import names it, nobody needs to provide it.
                    let r = resource_at(types, next.types, resources);
                    next.types += 1;
                    frame.inits.push(Init::Type(r));
                    continue;
                }
                let mut funcs = Vec::new();
                let paths = match sort {
                    Sort::Func => {
                        let id = types.component_function_at(next.funcs);
                        funcs.push((Vec::new(), func_type(types, id, resources)));
                        next.funcs += 1;
                        Vec::new()
                    }
                    Sort::Instance => {
                        let id = types.component_instance_at(next.instances);
                        next.instances += 1;
                        instance_funcs(types, id, resources, &mut Vec::new(), &mut funcs);
                        instance_resources(types, id, resources)
                    }
                    Sort::Type => {
                        let index = resource_at(types, next.types, resources);
                        next.types += 1;
                        index.map(|r| (Vec::new(), r)).into_iter().collect()
                    }
                    _ => Vec::new(),
                };
                frame.imports.push((name.clone(), sort));
                frame.inits.push(Init::Import {
                    name,
                    sort,
                    resources: paths,
                    funcs,
                });
            }
        }
        Payload::ComponentExportSection(s) => {
            for export in s {
                let export = export.map_err(malformed)?;
                let name = export.name.full_name().into_owned();
                let sort = sort_of_kind(export.kind, 0)?;
                let func = match sort {
                    Sort::Func => {
                        let id = types.component_function_at(export.index);
                        next.funcs += 1;
                        Some(func_type(types, id, resources))
                    }
                    Sort::Type => {
                        // The export names the type anew; it stays the
                        // same resource, if it is one.
                        resource_at(types, next.types, resources);
                        next.types += 1;
                        None
                    }
                    Sort::Instance => {
                        next.instances += 1;
                        None
                    }
                    _ => None,
                };
                frame.exports.push((name.clone(), sort, func));
                frame.inits.push(Init::Export {
                    name,
                    sort,
                    index: export.index,
                });
            }
        }
        Payload::InstanceSection(s) => {
            for instance in s {
                let instance = instance.map_err(malformed)?;
                frame.inits.push(match instance {
                    wasmparser::Instance::Instantiate { module_index, args } => {
                        Init::CoreInstantiate {
                            module: module_index,
                            args: args.iter().map(|a| (a.name.to_string(), a.index)).collect(),
                            found: OnceLock::new(),
                        }
                    }
                    wasmparser::Instance::FromExports(exports) => Init::CoreFromExports(
                        exports
                            .iter()
                            .map(|e| Ok((e.name.to_string(), core_sort(e.kind, 0)?, e.index)))
                            .collect::<Result<_>>()?,
                    ),
                });
            }
        }
        Payload::ComponentInstanceSection(s) => {
            for instance in s {
                let instance = instance.map_err(malformed)?;
                let id = types.component_instance_at(next.instances);
                next.instances += 1;
                frame.inits.push(match instance {
                    wasmparser::ComponentInstance::Instantiate {
                        component_index,
                        args,
                    } => Init::Instantiate {
                        component: component_index,
                        args: args
                            .iter()
                            .map(|a| Ok((a.name.to_string(), sort_of_kind(a.kind, 0)?, a.index)))
                            .collect::<Result<_>>()?,
                        resources: instance_resources(types, id, resources),
                    },
                    wasmparser::ComponentInstance::FromExports(exports) => Init::FromExports(
                        exports
                            .iter()
                            .map(|e| {
                                Ok((
                                    e.name.full_name().into_owned(),
                                    sort_of_kind(e.kind, 0)?,
                                    e.index,
                                ))
                            })
                            .collect::<Result<_>>()?,
                    ),
                });
            }
        }
        Payload::ComponentAliasSection(s) => {
            for alias in s.into_iter_with_offsets() {
                let (offset, alias) = alias.map_err(malformed)?;
                frame.inits.push(match alias {
                    ComponentAlias::InstanceExport {
                        kind,
                        instance_index,
                        name,
                    } => {
                        let sort = sort_of_kind(kind, offset)?;
                        let mut resource = None;
                        match sort {
                            Sort::Type => {
                                resource = resource_at(types, next.types, resources);
                                next.types += 1;
                            }
                            Sort::Func => next.funcs += 1,
                            Sort::Instance => next.instances += 1,
                            _ => {}
                        }
                        Init::Alias {
                            sort,
                            instance: instance_index,
                            name: name.to_string(),
                            resource,
                        }
                    }
                    ComponentAlias::CoreInstanceExport {
                        kind,
                        instance_index,
                        name,
                    } => {
                        let sort = core_sort(kind, offset)?;
                        if sort == CoreSort::Func {
                            next.core_funcs += 1;
                        }
                        Init::CoreAlias {
                            sort,
                            instance: instance_index,
                            name: name.to_string(),
                            found: OnceLock::new(),
                        }
                    }
                    ComponentAlias::Outer { kind, count, index } => {
                        let sort = match kind {
                            ComponentOuterAliasKind::CoreModule => Sort::Module,
                            ComponentOuterAliasKind::Component => Sort::Component,
                            ComponentOuterAliasKind::Type => {
                                resource_at(types, next.types, resources);
                                next.types += 1;
                                Sort::Type
                            }
                            // Core types are only a validation matter.
                            ComponentOuterAliasKind::CoreType => continue,
                        };
                        Init::OuterAlias { sort, count, index }
                    }
                });
            }
        }
        Payload::ComponentTypeSection(s) => {
            for ty in s.into_iter_with_offsets() {
                let (_, ty) = ty.map_err(malformed)?;
                let index = next.types;
                next.types += 1;
                frame.inits.push(match ty {
                    wasmparser::ComponentType::Resource { dtor, .. } => {
                        let resource = resource_at(types, index, resources)
                            .expect("a resource type defines a resource");
                        Init::DefineResource { resource, dtor }
                    }
                    _ => Init::Type(None),
                });
            }
        }
        Payload::ComponentCanonicalSection(s) => {
            for func in s.into_iter_with_offsets() {
                let (offset, func) = func.map_err(malformed)?;
                let init = match func {
                    CanonicalFunction::Lift {
                        core_func_index,
                        options,
                        ..
                    } => {
                        let id = types.component_function_at(next.funcs);
                        next.funcs += 1;
                        Init::Lift {
                            core_func: core_func_index,
                            ty: func_type(types, id, resources),
                            options: static_options(&options, offset)?,
                        }
                    }
                    CanonicalFunction::Lower {
                        func_index,
                        options,
                    } => {
                        next.core_funcs += 1;
                        let id = types.component_function_at(func_index);
                        let ty = func_type(types, id, resources);
                        let (params, results) = lowered_core_type(&ty);
                        let core_ty = tern_engine::RegisteredFuncType::new(
                            engine,
                            tern_engine::FuncType::new(
                                params.iter().map(|f| f.core()),
                                results.iter().map(|f| f.core()),
                            ),
                        )?;
                        Init::Lower {
                            func: func_index,
                            ty: Arc::new(ty),
                            options: static_options(&options, offset)?,
                            core_ty,
                            core_arity: (params.len(), results.len()),
                        }
                    }
                    CanonicalFunction::ResourceNew { resource }
                    | CanonicalFunction::ResourceRep { resource }
                    | CanonicalFunction::ResourceDrop { resource } => {
                        next.core_funcs += 1;
                        let r = resource_at(types, resource, resources)
                            .expect("validated as a resource");
                        match func {
                            CanonicalFunction::ResourceNew { .. } => Init::ResourceNew(r),
                            CanonicalFunction::ResourceRep { .. } => Init::ResourceRep(r),
                            _ => Init::ResourceDrop(r),
                        }
                    }
                    _ => {
                        return Err(unsupported(
                            "the component model's async and thread built-ins are",
                            offset,
                        ));
                    }
                };
                frame.inits.push(init);
            }
        }
        Payload::ComponentStartSection { start, range } => {
            if !start.arguments.is_empty() || start.results > 0 {
                return Err(unsupported("a start function with values", range.start));
            }
            frame.inits.push(Init::Start {
                func: start.func_index,
            });
        }
        // Core types are checked by the validator and needed by nothing
        // else; custom sections carry no semantics.
        _ => {}
    }
    Ok(())
}

fn sort_of_ref(ty: &ComponentTypeRef) -> Sort {
    match ty {
        ComponentTypeRef::Module(_) => Sort::Module,
        ComponentTypeRef::Func(_) => Sort::Func,
        ComponentTypeRef::Type(_) => Sort::Type,
        ComponentTypeRef::Instance(_) => Sort::Instance,
        ComponentTypeRef::Component(_) => Sort::Component,
        // Refused before this is asked.
        ComponentTypeRef::Value(_) => unreachable!("value imports are refused"),
    }
}

fn sort_of_kind(kind: ComponentExternalKind, offset: u64) -> Result<Sort> {
    Ok(match kind {
        ComponentExternalKind::Module => Sort::Module,
        ComponentExternalKind::Func => Sort::Func,
        ComponentExternalKind::Type => Sort::Type,
        ComponentExternalKind::Instance => Sort::Instance,
        ComponentExternalKind::Component => Sort::Component,
        ComponentExternalKind::Value => return Err(unsupported("component values are", offset)),
    })
}

fn core_sort(kind: ExternalKind, offset: u64) -> Result<CoreSort> {
    Ok(match kind {
        ExternalKind::Func | ExternalKind::FuncExact => CoreSort::Func,
        ExternalKind::Table => CoreSort::Table,
        ExternalKind::Memory => CoreSort::Memory,
        ExternalKind::Global => CoreSort::Global,
        ExternalKind::Tag => return Err(unsupported("exception tags are", offset)),
    })
}

fn static_options(options: &[CanonicalOption], offset: u64) -> Result<StaticOptions> {
    let mut out = StaticOptions {
        memory: None,
        realloc: None,
        post_return: None,
        encoding: StringEncoding::Utf8,
    };
    for option in options {
        match *option {
            CanonicalOption::UTF8 => out.encoding = StringEncoding::Utf8,
            CanonicalOption::UTF16 => out.encoding = StringEncoding::Utf16,
            CanonicalOption::CompactUTF16 => out.encoding = StringEncoding::CompactUtf16,
            CanonicalOption::Memory(m) => out.memory = Some(m),
            CanonicalOption::Realloc(f) => out.realloc = Some(f),
            CanonicalOption::PostReturn(f) => out.post_return = Some(f),
            CanonicalOption::Async | CanonicalOption::Callback(_) => {
                return Err(unsupported("async lifting and lowering are", offset));
            }
            CanonicalOption::CoreType(_) | CanonicalOption::Gc => {
                return Err(unsupported("GC lifting and lowering are", offset));
            }
        }
    }
    Ok(out)
}

/// The resource number of type `index`, if it is a resource.
fn resource_at(
    types: TypesRef<'_>,
    index: u32,
    resources: &mut Resources,
) -> Option<ResourceIndex> {
    match types.component_any_type_at(index) {
        ComponentAnyTypeId::Resource(r) => Some(resources.number(r.resource())),
        _ => None,
    }
}

/// Every resource type an instance of type `id` exports, with its path.
fn instance_resources(
    types: TypesRef<'_>,
    id: ComponentInstanceTypeId,
    resources: &mut Resources,
) -> ResourcePaths {
    let mut out = Vec::new();
    for (name, item) in &types[id].exports {
        match item.ty {
            ComponentEntityType::Type {
                created: ComponentAnyTypeId::Resource(r),
                ..
            } => out.push((vec![name.clone()], resources.number(r.resource()))),
            ComponentEntityType::Instance(inner) => {
                for (mut path, r) in instance_resources(types, inner, resources) {
                    path.insert(0, name.clone());
                    out.push((path, r));
                }
            }
            _ => {}
        }
    }
    out
}

/// Every function an instance of type `id` exports, with its path.
fn instance_funcs(
    types: TypesRef<'_>,
    id: ComponentInstanceTypeId,
    resources: &mut Resources,
    path: &mut Vec<String>,
    out: &mut Vec<(Vec<String>, FuncType)>,
) {
    for (name, item) in &types[id].exports {
        path.push(name.clone());
        match item.ty {
            ComponentEntityType::Func(f) => {
                out.push((path.clone(), func_type(types, f, resources)))
            }
            ComponentEntityType::Instance(inner) => {
                instance_funcs(types, inner, resources, path, out);
            }
            _ => {}
        }
        path.pop();
    }
}

fn func_type(types: TypesRef<'_>, id: ComponentFuncTypeId, resources: &mut Resources) -> FuncType {
    let ty = &types[id];
    let params: Vec<(String, Type)> = ty
        .params
        .iter()
        .map(|(name, t)| (name.to_string(), val_type(types, *t, resources)))
        .collect();
    FuncType::new(params, ty.result.map(|t| val_type(types, t, resources)))
}

fn val_type(types: TypesRef<'_>, ty: ComponentValType, resources: &mut Resources) -> Type {
    let id = match ty {
        ComponentValType::Primitive(p) => return primitive(p),
        ComponentValType::Type(id) => id,
    };
    let mut conv = |t: ComponentValType| val_type(types, t, resources);
    match &types[id] {
        ComponentDefinedType::Primitive(p) => primitive(*p),
        ComponentDefinedType::Record(r) => Type::Record(
            r.fields
                .iter()
                .map(|(n, t)| (n.to_string(), conv(*t)))
                .collect(),
        ),
        ComponentDefinedType::Variant(v) => Type::Variant(
            v.cases
                .iter()
                .map(|(n, c)| (n.to_string(), c.ty.map(&mut conv)))
                .collect(),
        ),
        ComponentDefinedType::List { element, .. } => Type::List(Arc::new(conv(*element))),
        ComponentDefinedType::Tuple(t) => Type::Tuple(t.types.iter().map(|t| conv(*t)).collect()),
        ComponentDefinedType::Flags(names) => {
            Type::Flags(names.iter().map(|n| n.to_string()).collect())
        }
        ComponentDefinedType::Enum(names) => {
            Type::Enum(names.iter().map(|n| n.to_string()).collect())
        }
        ComponentDefinedType::Option { ty, .. } => Type::Option(Arc::new(conv(*ty))),
        ComponentDefinedType::Result { ok, err, .. } => {
            Type::Result(Arc::new((ok.map(&mut conv), err.map(&mut conv))))
        }
        ComponentDefinedType::Own(r) => Type::Own(resources.number(r.resource())),
        ComponentDefinedType::Borrow(r) => Type::Borrow(resources.number(r.resource())),
        // Maps, fixed-length lists, futures and streams sit behind feature
        // flags the validator leaves off.
        _ => unreachable!("refused by validation: {:?}", &types[id]),
    }
}

fn primitive(p: PrimitiveValType) -> Type {
    match p {
        PrimitiveValType::Bool => Type::Bool,
        PrimitiveValType::S8 => Type::S8,
        PrimitiveValType::U8 => Type::U8,
        PrimitiveValType::S16 => Type::S16,
        PrimitiveValType::U16 => Type::U16,
        PrimitiveValType::S32 => Type::S32,
        PrimitiveValType::U32 => Type::U32,
        PrimitiveValType::S64 => Type::S64,
        PrimitiveValType::U64 => Type::U64,
        PrimitiveValType::F32 => Type::Float32,
        PrimitiveValType::F64 => Type::Float64,
        PrimitiveValType::Char => Type::Char,
        PrimitiveValType::String => Type::String,
        // `error-context` sits behind a feature flag the validator leaves off.
        PrimitiveValType::ErrorContext => unreachable!("refused by validation"),
    }
}

/// The core signature of a lowered function of type `ty`: flat parameters
/// (or one pointer), then a return pointer when the result does not fit
/// in one core value.
pub(crate) fn lowered_core_type(ty: &FuncType) -> (Vec<Flat>, Vec<Flat>) {
    let (mut params, _) = layout::flat_params(ty.params.iter().map(|(_, t)| t));
    let results = ty.result.as_ref().map(layout::flat_of).unwrap_or_default();
    if results.len() > layout::MAX_FLAT_RESULTS {
        params.push(Flat::I32);
        (params, Vec::new())
    } else {
        (params, results)
    }
}
