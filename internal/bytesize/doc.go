// Package bytesize parses and prints byte counts the way people write them
// on a command line or in an environment variable: 1048576, 500MB, 2GiB.
//
// Decimal units are powers of 1000 (kB, MB, GB, TB) and binary units powers
// of 1024 (KiB, MiB, GiB, TiB), as IEC 80000-13 has them, so that 500MB is
// 500,000,000 bytes and 2GiB is 2,147,483,648. Units are matched without
// regard to case ("2gib" is 2GiB); K alone is accepted for kilo. The number
// is a whole number: a byte limit has no use for fractions, and a fraction
// of a decimal unit would round silently.
package bytesize
