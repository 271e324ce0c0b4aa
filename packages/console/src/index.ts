// The public API of @sprout/console (work in progress).
export {};
