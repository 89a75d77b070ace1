// The daemon driver lives here.
