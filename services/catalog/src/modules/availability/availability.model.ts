/** What the catalog last heard from booking about an event's seats. */
export interface AvailabilityFigures {
  totalSlots: number;
  availableSlots: number;
  confirmedSeats: number;
  waitlistLength: number;
}

/**
 * Seats to show for an event. Without figures from booking, everything is free. When the capacity
 * changed since booking last reported, the free seats follow the new capacity rather than show a
 * number from before the change. A finished (completed or cancelled) event sells nothing and its
 * waitlist is closed (booking cancels whoever still waits, and reports nothing more for it): both
 * show 0, whatever was last reported or derived.
 */
export function seatsShown(
  totalSlots: number,
  figures: AvailabilityFigures | undefined,
  finished = false,
): { availableSlots: number; waitlistLength: number } {
  if (finished) return { availableSlots: 0, waitlistLength: 0 };
  if (figures === undefined) return { availableSlots: totalSlots, waitlistLength: 0 };
  const availableSlots =
    figures.totalSlots === totalSlots
      ? figures.availableSlots
      : Math.max(0, totalSlots - figures.confirmedSeats);
  return { availableSlots, waitlistLength: figures.waitlistLength };
}
