// The public API of @sprout/builder (work in progress).
export {};
