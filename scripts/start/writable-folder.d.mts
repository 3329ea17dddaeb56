export declare function canWriteOrCreate(folder: string): boolean;
