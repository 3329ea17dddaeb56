/** Who is acting and under which request: stamped on audit rows and events. */
export interface Actor {
  userId: string;
  requestId: string;
}
