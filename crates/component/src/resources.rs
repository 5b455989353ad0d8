//! Resources: their runtime types, handles, and the per-instance handle
//! tables through which components name them.
//!
//! A component never sees a resource's representation unless it defines
//! the resource type; everyone else holds a handle, an index into the
//! holder's own table. Tables are per component instance, as the canonical
//! ABI requires, so one instance cannot forge or use another's handles.

use crate::util::abi_trap;
use std::any::TypeId;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::marker::PhantomData;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use tern_engine::{AsContextMut, Error, ErrorKind, Func, Result, TrapCode, Val as CoreVal};

/// The most handles one instance's table holds at once; a guest that
/// creates more traps instead of growing host memory without bound.
const MAX_HANDLES: usize = 1 << 22;

/// The type of a resource: defined by the host (one per Rust type) or by a
/// component instance (a fresh type for each instantiation).
#[derive(Clone)]
pub struct ResourceType(Kind);

#[derive(Clone)]
enum Kind {
    Host { id: TypeId, name: &'static str },
    Guest(Arc<GuestResource>),
}

struct GuestResource {
    id: u64,
    /// The instance that defined the type, the only one that sees its
    /// representations.
    instance: u64,
    /// The destructor the defining instance named, called with the
    /// representation when the last owning handle is dropped.
    dtor: Option<Func>,
    /// The name the type was first exported under, for messages.
    name: OnceLock<String>,
}

impl ResourceType {
    /// The type of host resources represented by Rust type `T`.
    pub fn host<T: 'static>() -> Self {
        Self(Kind::Host {
            id: TypeId::of::<T>(),
            name: std::any::type_name::<T>(),
        })
    }

    /// A fresh type defined by a component instance.
    pub(crate) fn guest(instance: u64, dtor: Option<Func>) -> Self {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        Self(Kind::Guest(Arc::new(GuestResource {
            id: NEXT.fetch_add(1, Ordering::Relaxed),
            instance,
            dtor,
            name: OnceLock::new(),
        })))
    }

    /// Records `name` as the type's name in messages, unless it has one:
    /// a guest type is named by its first export.
    pub(crate) fn name_once(&self, name: &str) {
        if let Kind::Guest(g) = &self.0 {
            let _ = g.name.set(name.to_string());
        }
    }

    /// Whether component instance `instance` defined this type.
    pub(crate) fn defined_by(&self, instance: u64) -> bool {
        matches!(&self.0, Kind::Guest(g) if g.instance == instance)
    }

    /// Whether this type is the host's type for Rust type `T`.
    pub fn is_host<T: 'static>(&self) -> bool {
        matches!(self.0, Kind::Host { id, .. } if id == TypeId::of::<T>())
    }

    /// The guest destructor, for types components define.
    pub(crate) fn guest_dtor(&self) -> Option<Func> {
        match &self.0 {
            Kind::Guest(g) => g.dtor,
            Kind::Host { .. } => None,
        }
    }
}

impl PartialEq for ResourceType {
    fn eq(&self, other: &Self) -> bool {
        match (&self.0, &other.0) {
            (Kind::Host { id: a, .. }, Kind::Host { id: b, .. }) => a == b,
            (Kind::Guest(a), Kind::Guest(b)) => a.id == b.id,
            _ => false,
        }
    }
}

impl Eq for ResourceType {}

impl Hash for ResourceType {
    fn hash<H: Hasher>(&self, state: &mut H) {
        match &self.0 {
            Kind::Host { id, .. } => id.hash(state),
            Kind::Guest(g) => g.id.hash(state),
        }
    }
}

impl fmt::Debug for ResourceType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Kind::Host { name, .. } => write!(f, "ResourceType::host::<{name}>()"),
            Kind::Guest(g) => match g.name.get() {
                Some(name) => write!(f, "ResourceType::guest({}, {name:?})", g.id),
                None => write!(f, "ResourceType::guest({})", g.id),
            },
        }
    }
}

/// A resource handle held by the host: the resource's type, its
/// representation, and whether the handle owns the resource or borrows it
/// for the length of a call.
///
/// An owning handle a component hands over stays the host's until the
/// host drops it ([`resource_drop`](Self::resource_drop)) or passes it
/// back as an `own`; after that, every copy of it is refused, with an
/// error saying so, rather than naming whatever resource the component
/// has since put under the same representation.
#[derive(Debug, Clone)]
pub struct ResourceAny {
    ty: ResourceType,
    rep: u32,
    owned: bool,
    /// For an owning handle lifted from a component: whether the host
    /// still holds it, shared by its clones.
    held: Option<Arc<AtomicBool>>,
}

impl PartialEq for ResourceAny {
    fn eq(&self, other: &Self) -> bool {
        self.ty == other.ty && self.rep == other.rep && self.owned == other.owned
    }
}

impl Eq for ResourceAny {}

impl Hash for ResourceAny {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.ty.hash(state);
        self.rep.hash(state);
        self.owned.hash(state);
    }
}

impl ResourceAny {
    pub(crate) fn new(ty: ResourceType, rep: u32, owned: bool) -> Self {
        Self {
            ty,
            rep,
            owned,
            held: None,
        }
    }

    /// An owning handle a component gave up to the host, which holds it
    /// until it drops it or gives it back.
    pub(crate) fn lifted_own(ty: ResourceType, rep: u32) -> Self {
        Self {
            ty,
            rep,
            owned: true,
            held: Some(Arc::new(AtomicBool::new(true))),
        }
    }

    /// Checks that the host still holds this handle.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Usage`] when it was dropped or passed on as an `own`.
    pub(crate) fn check_held(&self) -> Result<()> {
        match &self.held {
            Some(held) if !held.load(Ordering::Acquire) => Err(gone()),
            _ => Ok(()),
        }
    }

    /// Gives up the host's hold on this handle (it is dropped, or moved
    /// into a component), for every copy of it.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Usage`] when it was already given up.
    pub(crate) fn release(&self) -> Result<()> {
        match &self.held {
            Some(held) if !held.swap(false, Ordering::AcqRel) => Err(gone()),
            _ => Ok(()),
        }
    }

    /// The resource's type.
    pub fn ty(&self) -> &ResourceType {
        &self.ty
    }

    /// The representation: for host resources, the index the host chose
    /// (a [`ResourceTable`] key); for guest resources, the value the
    /// defining component gave `resource.new`.
    pub fn rep(&self) -> u32 {
        self.rep
    }

    /// Whether this handle owns the resource (`own`) rather than borrowing
    /// it (`borrow`).
    pub fn owned(&self) -> bool {
        self.owned
    }

    /// This handle as a typed host resource, if its type is `T`'s.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Usage`] when the resource is of another type.
    pub fn try_into_resource<T: 'static>(self) -> Result<Resource<T>> {
        if !self.ty.is_host::<T>() {
            return Err(Error::new_kind(
                ErrorKind::Usage,
                format!(
                    "resource of type {:?} used as {}",
                    self.ty,
                    std::any::type_name::<T>()
                ),
            ));
        }
        Ok(Resource {
            rep: self.rep,
            owned: self.owned,
            _ty: PhantomData,
        })
    }

    /// Drops an owned handle: a guest-defined resource's destructor runs.
    /// A host resource is the host's to free from its own table.
    ///
    /// The handle (and every clone of it) is no longer usable afterwards.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Usage`] for a borrowed handle, or one already dropped
    /// or passed back to a component as an `own`; a trap of the
    /// destructor.
    pub fn resource_drop(self, store: impl AsContextMut) -> Result<()> {
        if !self.owned {
            return Err(Error::new_kind(
                ErrorKind::Usage,
                "a borrowed resource handle cannot be dropped by its borrower",
            ));
        }
        self.release()?;
        run_dtor(store, &self.ty, self.rep)
    }
}

/// The error for a handle the host no longer holds.
fn gone() -> Error {
    Error::new_kind(
        ErrorKind::Usage,
        "the resource handle was already dropped or passed to a component as an own, \
         and cannot be used again",
    )
}

/// Runs the destructor of a guest-defined resource type, if it has one.
pub(crate) fn run_dtor(mut store: impl AsContextMut, ty: &ResourceType, rep: u32) -> Result<()> {
    if let Some(dtor) = ty.guest_dtor() {
        dtor.call(store.as_context_mut(), &[CoreVal::I32(rep as i32)], &mut [])?;
    }
    Ok(())
}

/// A typed handle to a host resource of Rust type `T`, whose state the
/// host keeps (typically in a [`ResourceTable`]) under [`rep`](Self::rep).
pub struct Resource<T> {
    rep: u32,
    owned: bool,
    _ty: PhantomData<fn() -> T>,
}

impl<T: 'static> Resource<T> {
    /// An owning handle to the host's resource `rep`.
    pub fn new_own(rep: u32) -> Self {
        Self {
            rep,
            owned: true,
            _ty: PhantomData,
        }
    }

    /// A borrowing handle to the host's resource `rep`.
    pub fn new_borrow(rep: u32) -> Self {
        Self {
            rep,
            owned: false,
            _ty: PhantomData,
        }
    }

    /// The host's key for the resource.
    pub fn rep(&self) -> u32 {
        self.rep
    }

    /// Whether the handle owns the resource.
    pub fn owned(&self) -> bool {
        self.owned
    }

    /// The untyped handle, to pass in a [`Val`](crate::Val).
    pub fn into_any(self) -> ResourceAny {
        ResourceAny::new(ResourceType::host::<T>(), self.rep, self.owned)
    }
}

impl<T> fmt::Debug for Resource<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Resource")
            .field("type", &std::any::type_name::<T>())
            .field("rep", &self.rep)
            .field("owned", &self.owned)
            .finish()
    }
}

impl<T> Clone for Resource<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for Resource<T> {}

/// The host's own table of resource state, keyed by the `rep` its handles
/// carry: what a host implementation of an interface keeps its files,
/// streams and connections in.
#[derive(Default)]
pub struct ResourceTable {
    entries: Vec<Option<Box<dyn std::any::Any + Send>>>,
    free: Vec<u32>,
}

impl fmt::Debug for ResourceTable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResourceTable")
            .field("live", &(self.entries.len() - self.free.len()))
            .finish()
    }
}

impl ResourceTable {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// Stores `value` and returns an owning handle to it.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Limit`] when the table already holds its maximum.
    pub fn push<T: Send + 'static>(&mut self, value: T) -> Result<Resource<T>> {
        let rep = match self.free.pop() {
            Some(rep) => {
                self.entries[rep as usize] = Some(Box::new(value));
                rep
            }
            None => {
                if self.entries.len() >= MAX_HANDLES {
                    return Err(Error::new_kind(ErrorKind::Limit, "resource table is full"));
                }
                self.entries.push(Some(Box::new(value)));
                (self.entries.len() - 1) as u32
            }
        };
        Ok(Resource::new_own(rep))
    }

    /// The value behind `resource`.
    ///
    /// # Errors
    ///
    /// When the handle is dangling or names a value of another type.
    pub fn get<T: 'static>(&self, resource: &Resource<T>) -> Result<&T> {
        self.entries
            .get(resource.rep as usize)
            .and_then(|e| e.as_ref())
            .and_then(|b| b.downcast_ref::<T>())
            .ok_or_else(|| dangling::<T>(resource.rep))
    }

    /// The value behind `resource`, mutably.
    ///
    /// # Errors
    ///
    /// When the handle is dangling or names a value of another type.
    pub fn get_mut<T: 'static>(&mut self, resource: &Resource<T>) -> Result<&mut T> {
        self.entries
            .get_mut(resource.rep as usize)
            .and_then(|e| e.as_mut())
            .and_then(|b| b.downcast_mut::<T>())
            .ok_or_else(|| dangling::<T>(resource.rep))
    }

    /// Removes the value behind `resource` and returns it.
    ///
    /// # Errors
    ///
    /// When the handle is dangling or names a value of another type.
    pub fn delete<T: 'static>(&mut self, resource: Resource<T>) -> Result<T> {
        self.get::<T>(&resource)?;
        let value = self.entries[resource.rep as usize]
            .take()
            .expect("checked above");
        self.free.push(resource.rep);
        Ok(*value.downcast::<T>().expect("checked above"))
    }
}

fn dangling<T>(rep: u32) -> Error {
    Error::new_kind(
        ErrorKind::Usage,
        format!(
            "resource {rep} of type {} is not in the table",
            std::any::type_name::<T>()
        ),
    )
}

/// One entry of an instance's handle table.
#[derive(Debug, Clone)]
pub(crate) enum Slot {
    Free,
    /// An owning handle; `lent` counts borrows of it live in calls.
    Own {
        ty: ResourceType,
        rep: u32,
        lent: u32,
    },
    /// A borrowed handle, valid until the call `scope` returns.
    Borrow {
        ty: ResourceType,
        rep: u32,
        scope: usize,
    },
}

/// A component instance's handles. Handle `h` is entry `h - 1`, so that 0
/// is never a valid handle.
#[derive(Debug, Default)]
pub(crate) struct HandleTable {
    slots: Vec<Slot>,
    free: Vec<u32>,
}

impl HandleTable {
    pub(crate) fn insert(&mut self, slot: Slot) -> Result<u32> {
        if let Some(i) = self.free.pop() {
            self.slots[i as usize] = slot;
            return Ok(i + 1);
        }
        if self.slots.len() >= MAX_HANDLES {
            return Err(Error::trap_with(
                TrapCode::ResourceLimitExceeded,
                "too many resource handles in one instance",
            ));
        }
        self.slots.push(slot);
        Ok(self.slots.len() as u32)
    }

    pub(crate) fn get(&self, handle: u32) -> Result<&Slot> {
        match handle
            .checked_sub(1)
            .and_then(|i| self.slots.get(i as usize))
        {
            Some(Slot::Free) | None => Err(abi_trap(format!("unknown handle index {handle}"))),
            Some(slot) => Ok(slot),
        }
    }

    pub(crate) fn get_mut(&mut self, handle: u32) -> Result<&mut Slot> {
        match handle
            .checked_sub(1)
            .and_then(|i| self.slots.get_mut(i as usize))
        {
            Some(Slot::Free) | None => Err(abi_trap(format!("unknown handle index {handle}"))),
            Some(slot) => Ok(slot),
        }
    }

    /// Removes the borrowed handles of the call `scope`.
    pub(crate) fn remove_borrows(&mut self, scope: usize) {
        for (i, slot) in self.slots.iter_mut().enumerate() {
            if matches!(slot, Slot::Borrow { scope: s, .. } if *s == scope) {
                *slot = Slot::Free;
                self.free.push(i as u32);
            }
        }
    }

    pub(crate) fn remove(&mut self, handle: u32) -> Result<Slot> {
        self.get(handle)?;
        let i = handle - 1;
        let slot = std::mem::replace(&mut self.slots[i as usize], Slot::Free);
        self.free.push(i);
        Ok(slot)
    }
}
