//go:build !unix

package main

// openNonBlock is 0 where opening does not block on FIFOs the Unix way.
const openNonBlock = 0
