"""Owner operations (保有客户运营): the customers who bought, their vehicles, and the work that
keeps them — return visits and satisfaction, complaints, members, referrals, owner events."""
