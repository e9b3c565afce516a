namespace Durably;

/// <summary>
/// What kind of failure a <see cref="DurableStoreException"/> reports: one classification that every store maps its
/// driver's errors to, and that the worker acts on (it backs off on every kind and names the kind in its log).
/// </summary>
public enum StoreFault
{
    /// <summary>The store failed in a way that is not expected to last: a dropped connection, a server restarting, an I/O hiccup. Try again.</summary>
    Transient,

    /// <summary>The disk or file system under the store is full: writes fail until space is freed; reads may still work.</summary>
    Full,

    /// <summary>The store can be read but not written: a read-only file, folder, file system or database server.</summary>
    ReadOnly,

    /// <summary>Another connection held a lock the store needed for longer than the store waits.</summary>
    Locked,

    /// <summary>
    /// Trying again will not help until a person acts: the database is damaged or not a Durably database, its schema
    /// is newer than this code, or a statement was refused.
    /// </summary>
    Fatal,
}
