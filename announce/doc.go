// Package announce keeps the announcements managers post at run time,
// spoken to every caller after the greeting while they are active.
package announce
