"""The syscall table (syscalls.table) and one module per syscall family.

Every handler has the signature ``handler(kernel, task, args) -> Answer``.
"""
