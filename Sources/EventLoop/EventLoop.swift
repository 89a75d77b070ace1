// The reactor lives here.
