"""Marketing's campaigns (car shows, roadshows, promotions, the car-sticker fuel subsidy): their
capture codes and public capture pages, the stand's quick capture, and what each returned."""
