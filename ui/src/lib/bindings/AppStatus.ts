// Hand-written stand-in for the ts-rs output; the generated file replaces it.
export type AppStatus = { initialized: boolean; unlocked: boolean; officer_id: string | null; device_id: string | null; agency_name: string; pending_sync: number };
